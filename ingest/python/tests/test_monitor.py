"""Monitor behaviour with the standard library only (a fake sidecar on loopback)."""

import http.server
import json
import os
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from trainwatch import Monitor  # noqa: E402
from trainwatch.monitor import to_json_line  # noqa: E402


class FakeSidecar:
    """Records every POSTed line; answers 202, or 400 for lines containing "bad"."""

    def __init__(self):
        self.lines = []
        self.auth = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                outer.auth.append(self.headers.get("Authorization"))
                lines = [l for l in body.split("\n") if l]
                bad = [{"line": i + 1, "error": "field 'step'"} for i, l in enumerate(lines) if "bad" in l]
                outer.lines.extend(l for l in lines if "bad" not in l)
                out = json.dumps({"accepted": len(lines) - len(bad), "rejected": bad}).encode()
                self.send_response(400 if bad else 202)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class MonitorTest(unittest.TestCase):

    def setUp(self):
        self.sidecar = FakeSidecar()

    def tearDown(self):
        self.sidecar.close()

    def test_sends_every_logged_step_in_order_as_valid_json_lines(self):
        with Monitor("run-a", url=self.sidecar.url, token="s3cret", tags={"dtype": "float32"}) as mon:
            for step in range(1000):
                mon.log(step, loss=1.0 / (step + 1), lr=1e-3)
            self.assertTrue(mon.flush(10))
            self.assertEqual(mon.stats()["sent"], 1000)
        recs = [json.loads(l) for l in self.sidecar.lines]
        self.assertEqual([r["step"] for r in recs], list(range(1000)))
        self.assertEqual(recs[0]["tags"], {"dtype": "float32"})
        self.assertNotIn("tags", recs[1])
        self.assertEqual(recs[5]["run"], "run-a")
        self.assertAlmostEqual(recs[1]["metrics"]["loss"], 0.5)
        self.assertEqual(self.sidecar.auth[0], "Bearer s3cret")

    def test_non_finite_metrics_are_sent_as_the_strings_format_md_allows(self):
        line = to_json_line("r", 3, 1000, {"loss": float("nan"), "g": float("inf"), "h": -float("inf"), "n": 2})
        self.assertEqual(json.loads(line)["metrics"], {"loss": "NaN", "g": "Infinity", "h": "-Infinity", "n": 2})

    def test_metric_names_with_slashes_go_in_a_dict(self):
        with Monitor("r", url=self.sidecar.url) as mon:
            mon.log(1, {"logits/absorbed_frac": 0.25}, loss=1.0)
            mon.flush(5)
        m = json.loads(self.sidecar.lines[0])["metrics"]
        self.assertEqual(m, {"logits/absorbed_frac": 0.25, "loss": 1.0})

    def test_lines_rejected_by_the_sidecar_are_counted_not_raised(self):
        with Monitor("r", url=self.sidecar.url) as mon:
            mon.log(1, loss=1.0)
            mon.log(2, bad=1.0)
            mon.flush(5)
            s = mon.stats()
        self.assertEqual((s["sent"], s["rejected"]), (1, 1))

    def test_log_never_blocks_or_raises_when_the_sidecar_is_down(self):
        mon = Monitor("r", url="http://127.0.0.1:%d" % free_port(), max_queue=1000, timeout=0.5)
        t0 = time.perf_counter()
        for step in range(20000):
            mon.log(step, loss=1.0)
        elapsed = time.perf_counter() - t0
        s = mon.stats()
        self.assertLess(elapsed, 5.0)
        self.assertGreater(s["dropped"], 0)
        self.assertLessEqual(s["queued"], 1000 + 1)
        mon.close(timeout=0.5)

    def test_events_and_task(self):
        with Monitor("r", url=self.sidecar.url, task="t0") as mon:
            mon.event(0, "run_start")
            mon.event(10, "task_start", task="t1")
            mon.flush(5)
        recs = [json.loads(l) for l in self.sidecar.lines]
        self.assertEqual((recs[0]["event"], recs[0]["task"]), ("run_start", "t0"))
        self.assertEqual((recs[1]["event"], recs[1]["task"]), ("task_start", "t1"))

    def test_file_mode_appends_complete_json_lines_without_a_sidecar(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "telemetry.jsonl")
            with Monitor("file-run", path=path) as mon:
                for step in range(50):
                    mon.log(step, loss=0.5)
            with open(path, "rb") as f:
                data = f.read()
            self.assertTrue(data.endswith(b"\n"))
            recs = [json.loads(l) for l in data.decode().splitlines()]
            self.assertEqual([r["step"] for r in recs], list(range(50)))

    def test_constructor_requires_exactly_one_destination(self):
        with self.assertRaises(ValueError):
            Monitor("r")
        with self.assertRaises(ValueError):
            Monitor("r", url="http://x", path="y")


if __name__ == "__main__":
    unittest.main()
