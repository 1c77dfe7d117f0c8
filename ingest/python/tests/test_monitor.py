"""Monitor behaviour with the standard library only (a fake sidecar on loopback)."""

import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from trainwatch import Monitor  # noqa: E402
from trainwatch.monitor import CLOSE_TIMEOUT_S, to_json_line  # noqa: E402


class FakeSidecar:
    """Records every POSTed line; answers 202, or 400 for lines containing "bad"."""

    def __init__(self, port=0):
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

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
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
        with self.assertLogs("trainwatch", level="WARNING"), Monitor("r", url=self.sidecar.url) as mon:
            mon.log(1, loss=1.0)
            mon.log(2, bad=1.0)
            mon.flush(5)
            s = mon.stats()
        self.assertEqual((s["sent"], s["rejected"]), (1, 1))

    def test_log_never_blocks_or_raises_when_the_sidecar_is_down(self):
        mon = Monitor("r", url="http://127.0.0.1:%d" % free_port(), max_queue=1000, timeout=0.5)
        with self.assertLogs("trainwatch", level="WARNING"):
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

    def test_an_unreachable_sidecar_is_reported_once_and_every_record_is_counted_as_dropped(self):
        url = "http://127.0.0.1:%d" % free_port()
        with self.assertLogs("trainwatch", level="WARNING") as logs:
            mon = Monitor("down-run", url=url, flush_interval=0.05)
            for step in range(100):
                mon.log(step, loss=1.0)
            time.sleep(1.0)  # several retries with backoff happen meanwhile
            mon.close(timeout=2.0)
        s = mon.stats()
        self.assertEqual((s["logged"], s["sent"], s["dropped"], s["queued"]), (100, 0, 100, 0))
        self.assertGreaterEqual(s["errors"], 2)  # it did retry ...
        down = [r for r in logs.output if "cannot deliver" in r]
        self.assertEqual(len(down), 1, logs.output)  # ... but said so once
        self.assertIn(url, down[0])
        lost = [r for r in logs.output if "not delivered at close()" in r]
        self.assertEqual(len(lost), 1, logs.output)
        self.assertIn("100 record(s)", lost[0])
        self.assertFalse(mon.log(101, loss=1.0))  # closed: refused and counted
        self.assertEqual(mon.stats()["dropped"], 101)

    def test_close_gives_up_after_one_more_failed_attempt_instead_of_its_whole_timeout(self):
        mon = Monitor("down-run", url="http://127.0.0.1:%d" % free_port(), flush_interval=3600)
        mon.log(1, loss=1.0)
        t0 = time.monotonic()
        with self.assertLogs("trainwatch", level="WARNING"):
            mon.close(timeout=30.0)
        self.assertLess(time.monotonic() - t0, 5.0)  # a refused connection fails at once
        self.assertEqual(mon.stats()["dropped"], 1)

    def test_close_is_bounded_by_its_timeout_when_the_sidecar_never_answers(self):
        silent = socket.socket()  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        try:
            mon = Monitor("r", url="http://127.0.0.1:%d" % silent.getsockname()[1], timeout=30.0)
            for step in range(10):
                mon.log(step, loss=1.0)
            t0 = time.monotonic()
            with self.assertLogs("trainwatch", level="WARNING") as logs:
                mon.close(timeout=1.0)
            elapsed = time.monotonic() - t0
            self.assertGreaterEqual(elapsed, 0.9)
            self.assertLess(elapsed, 4.0)
            s = mon.stats()
            self.assertEqual((s["sent"], s["dropped"]), (0, 10))
            self.assertIn("timed out", "".join(logs.output))
        finally:
            silent.close()

    def test_a_rejected_record_is_reported_once_with_the_sidecars_reason(self):
        with self.assertLogs("trainwatch", level="WARNING") as logs:
            with Monitor("r", url=self.sidecar.url, batch_size=1, flush_interval=0.01) as mon:
                for step in range(5):
                    mon.log(step, bad=1.0)
                    mon.flush(5)
                mon.log(9, loss=1.0)
        s = mon.stats()
        self.assertEqual((s["logged"], s["sent"], s["rejected"], s["dropped"]), (6, 1, 5, 0))
        self.assertEqual(len(logs.output), 1, logs.output)
        self.assertIn("line 1: field 'step'", logs.output[0])

    def test_a_refused_token_is_reported_once_and_counted_as_rejected(self):
        class Refusing(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with self.assertLogs("trainwatch", level="WARNING") as logs:
                with Monitor("r", url="http://127.0.0.1:%d" % server.server_address[1]) as mon:
                    for step in range(3):
                        mon.log(step, loss=1.0)
                        mon.flush(5)
            self.assertEqual(mon.stats()["rejected"], 3)
            self.assertEqual(len(logs.output), 1, logs.output)
            self.assertIn("HTTP 401", logs.output[0])
            self.assertIn("TRAINWATCH_INGEST_TOKEN", logs.output[0])
        finally:
            server.shutdown()
            server.server_close()

    def test_a_full_buffer_is_reported_once(self):
        with self.assertLogs("trainwatch", level="WARNING") as logs:
            mon = Monitor("r", url=self.sidecar.url, max_queue=10, flush_interval=0.05)
            for step in range(50):
                mon.log(step, loss=1.0)
            mon.close()
        s = mon.stats()
        self.assertEqual(s["logged"], 50)
        self.assertEqual(s["sent"] + s["dropped"], 50)
        self.assertGreaterEqual(s["dropped"], 40)
        self.assertEqual(len([r for r in logs.output if "buffer full" in r]), 1, logs.output)

    def test_recovery_after_an_outage_is_noted_and_the_next_outage_reported_again(self):
        port = free_port()
        url = "http://127.0.0.1:%d" % port
        with self.assertLogs("trainwatch", level="INFO") as logs:
            mon = Monitor("r", url=url, flush_interval=0.05)
            mon.log(0, loss=1.0)
            self.assertFalse(mon.flush(0.5))
            up = FakeSidecar(port)
            try:
                self.assertTrue(mon.flush(10))  # backoff is at most 5 s
            finally:
                up.close()
            mon.log(1, loss=1.0)
            mon.close(timeout=2.0)
        text = "\n".join(logs.output)
        self.assertEqual(text.count("cannot deliver to"), 2, text)
        self.assertEqual(text.count("reachable again"), 1, text)
        s = mon.stats()
        self.assertEqual((s["sent"], s["dropped"]), (1, 1))

    def test_a_script_without_logging_setup_hears_about_an_unreachable_sidecar_once_on_stderr(self):
        script = ("import sys; sys.path.insert(0, %r)\n"
                  "from trainwatch import Monitor\n"
                  "mon = Monitor('script-run', url='http://127.0.0.1:%d')\n"
                  "for step in range(200): mon.log(step, loss=1.0)\n"
                  "import time; time.sleep(0.8)\n"  # no close(): atexit closes it
                  % (os.path.join(os.path.dirname(__file__), ".."), free_port()))
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.count("cannot deliver to http://127.0.0.1:"), 1, p.stderr)
        self.assertEqual(p.stderr.count("200 record(s) not delivered at close()"), 1, p.stderr)
        self.assertLess(elapsed, 0.8 + CLOSE_TIMEOUT_S, p.stderr)

    def test_constructor_requires_exactly_one_destination(self):
        with self.assertRaises(ValueError):
            Monitor("r")
        with self.assertRaises(ValueError):
            Monitor("r", url="http://x", path="y")


if __name__ == "__main__":
    unittest.main()
