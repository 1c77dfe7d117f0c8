"""Alerts back into the training process: the feed, the policies, and a plain loop obeying them."""

import os
import sys
import time
import unittest

from fakesidecar import FakeSidecar
from frameworks import need, needs

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from trainwatch import Monitor, Rollback, SkipStepWhileNonFinite, StopOnCritical, StopTraining  # noqa: E402
from trainwatch.alerts import Alert, Decision, PolicyRunner  # noqa: E402

torch = need("torch")


def wait(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return False


class AlertFeedTest(unittest.TestCase):

    def setUp(self):
        self.sidecar = FakeSidecar()

    def tearDown(self):
        self.sidecar.close()

    def test_alerts_and_callbacks_reach_the_process_once_even_when_resent(self):
        seen = []
        with Monitor("run-a", url=self.sidecar.url) as mon:
            mon.on_alert(seen.append)
            self.sidecar.publish("run-b", detector="loss_spike")  # another run's: not ours
            self.sidecar.publish("run-a", detector="non_finite", step=7)
            self.assertTrue(wait(lambda: len(seen) == 1))
            self.assertEqual([a.detector for a in mon.alerts()], ["non_finite"])
            self.sidecar.epoch = "e2"  # the sidecar restarted: it sends everything again
            self.sidecar.publish("run-a", detector="non_finite", status="resolved", step=60)
            self.assertTrue(wait(lambda: len(seen) == 2))
            time.sleep(0.3)
            self.assertEqual([(a.status, a.step) for a in seen], [("firing", 7), ("resolved", 60)])
            self.assertEqual(mon.alerts(), [])

    def test_file_mode_says_that_no_alert_can_arrive(self):
        with self.assertLogs("trainwatch", level="WARNING") as logs:
            with Monitor("r", path=os.devnull) as mon:
                self.assertEqual(mon.alerts(), [])
                mon.on_alert(print)
        self.assertEqual(len(logs.output), 1, logs.output)
        self.assertIn("alerts need a sidecar", logs.output[0])

    def test_an_unreachable_sidecar_is_said_once_for_alerts_too(self):
        port = self.sidecar.server.server_address[1]
        self.sidecar.close()
        with self.assertLogs("trainwatch", level="WARNING") as logs:
            mon = Monitor("r", url="http://127.0.0.1:%d" % port)
            mon.feed()
            time.sleep(1.0)
            mon.close(timeout=0.5)
        self.assertEqual(len([l for l in logs.output if "cannot read alerts" in l]), 1, logs.output)
        self.sidecar = FakeSidecar()


def alert(detector="non_finite", severity="critical", status="firing", fp="f1", step=1):
    return Alert({"run": "r", "family": "instability", "detector": detector, "severity": severity,
                  "status": status, "fingerprint": fp, "step": step})


class StubFeed:
    def __init__(self):
        self.new, self.act = [], []

    def take_new(self):
        out, self.new = self.new, []
        return out

    def active(self):
        return list(self.act)


class PolicyTest(unittest.TestCase):

    def test_stop_on_critical_ignores_warnings_and_resolutions(self):
        feed = StubFeed()
        r = PolicyRunner(feed, [StopOnCritical()])
        feed.new = [alert(severity="warning"), alert(status="resolved")]
        self.assertIsNone(r.step_boundary().stop)
        feed.new = [alert(detector="divergence", fp="f2")]
        with self.assertLogs("trainwatch", level="WARNING"):
            self.assertEqual(r.step_boundary().stop.detector, "divergence")

    def test_skip_while_non_finite_is_active(self):
        feed = StubFeed()
        r = PolicyRunner(feed, [SkipStepWhileNonFinite()])
        feed.act = [alert(detector="loss_spike", severity="warning")]
        self.assertFalse(r.step_boundary().skip)
        feed.act = [alert()]
        with self.assertLogs("trainwatch", level="WARNING"):
            self.assertTrue(r.step_boundary().skip)
        self.assertTrue(r.step_boundary().skip)
        feed.act = []
        with self.assertLogs("trainwatch", level="WARNING"):
            self.assertFalse(r.step_boundary().skip)

    def test_rollback_runs_once_per_firing_and_again_after_a_resolution(self):
        feed = StubFeed()
        calls = []
        r = PolicyRunner(feed, [Rollback(calls.append)])
        feed.new = [alert(step=5)]
        r.step_boundary()
        feed.new = [alert(step=5)]  # the same alert escalated or resent: no second rollback
        r.step_boundary()
        feed.new = [alert(status="resolved", step=60)]
        r.step_boundary()
        feed.new = [alert(step=90)]
        r.step_boundary()
        self.assertEqual([a.step for a in calls], [5, 90])
        self.assertIsInstance(Decision(), Decision)


@needs("torch")
class PlainLoopPolicyTest(unittest.TestCase):

    def setUp(self):
        self.sidecar = FakeSidecar()

    def tearDown(self):
        self.sidecar.close()

    def _loop(self, tw, model, opt, steps, on_step=None):
        import torch.nn.functional as F
        for i in range(steps):
            x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            tw.step(loss, labels=y)
            if on_step:
                on_step(i)
            time.sleep(0.01)

    def test_a_critical_alert_stops_a_plain_loop_with_an_exception(self):
        import trainwatch
        model = torch.nn.Linear(4, 3)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        tw = trainwatch.watch(model, opt, run="stop-me", url=self.sidecar.url, attention=False,
                              policies=[StopOnCritical()])
        published = {}

        def on_step(i):
            if i == 5:
                published["t"] = time.monotonic()
                self.sidecar.publish("stop-me", detector="divergence")
        with self.assertLogs("trainwatch", level="WARNING"):
            with self.assertRaises(StopTraining) as stop:
                self._loop(tw, model, opt, 500, on_step)
        tw.close()
        self.assertEqual(stop.exception.alert.detector, "divergence")
        self.assertLess(tw.n, 500)
        self.assertGreater(tw.n, 6)

    def test_steps_are_skipped_while_a_non_finite_alert_is_active(self):
        import trainwatch
        model = torch.nn.Linear(4, 3)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        tw = trainwatch.watch(model, opt, run="skip-me", url=self.sidecar.url, attention=False,
                              policies=[SkipStepWhileNonFinite()])
        tw.monitor.feed().received.wait(5)
        snapshots = {}
        with self.assertLogs("trainwatch", level="WARNING") as logs:
            self._loop(tw, model, opt, 3)
            self.sidecar.publish("skip-me")
            self.assertTrue(wait(lambda: tw.monitor.alerts()))
            self._loop(tw, model, opt, 1)  # the step boundary where the policy sees it
            self.assertTrue(tw.skipping)
            snapshots["before"] = model.weight.detach().clone()
            self._loop(tw, model, opt, 5)
            snapshots["during"] = model.weight.detach().clone()
            self.sidecar.publish("skip-me", status="resolved", step=60)
            self.assertTrue(wait(lambda: not tw.monitor.alerts()))
            self._loop(tw, model, opt, 2)
        tw.close()
        self.assertTrue(torch.equal(snapshots["before"], snapshots["during"]))  # nothing applied
        self.assertFalse(torch.equal(snapshots["during"], model.weight.detach()))  # resumed
        self.assertGreaterEqual(tw.policies.skipped_steps, 5)
        self.assertTrue(any("skipping optimizer steps" in l for l in logs.output))
        self.assertTrue(any("resuming" in l for l in logs.output))


if __name__ == "__main__":
    unittest.main()
