"""A stand-in sidecar on loopback for the client's unit tests: records POSTed lines and serves
``GET /v1/runs/{run}/alerts`` (long poll) from alerts the test publishes. The real sidecar is
exercised by the Maven ITs (PythonClientIT, TrainerAlertsIT)."""

import http.server
import json
import threading
import time
import urllib.parse


class FakeSidecar:
    def __init__(self, port=0):
        self.lines = []
        self.events = []  # (seq, alert dict)
        self.cond = threading.Condition()
        self.epoch = "e1"
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                lines = [l for l in body.split("\n") if l]
                with outer.cond:
                    outer.lines.extend(lines)
                    outer.cond.notify_all()
                self._answer(202, {"accepted": len(lines), "rejected": []})

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                parts = u.path.split("/")
                if len(parts) != 5 or parts[1:3] != ["v1", "runs"] or parts[4] != "alerts":
                    return self._answer(404, {"error": "not found"})
                run = urllib.parse.unquote(parts[3])
                q = urllib.parse.parse_qs(u.query)
                after = q.get("after", [None])[0]
                wait = int(q.get("wait_ms", ["0"])[0]) / 1000.0
                since = int(after.split("-")[1]) if after and after.startswith(outer.epoch + "-") else 0
                deadline = time.monotonic() + wait
                with outer.cond:
                    while True:
                        evs = [(s, a) for s, a in outer.events if s > since and a["run"] == run]
                        left = deadline - time.monotonic()
                        if evs or left <= 0 or after is None:  # no cursor: answer at once
                            break
                        outer.cond.wait(left)
                    active = {}
                    for s, a in outer.events:
                        if a["run"] == run:
                            if a["status"] == "firing":
                                active[a["fingerprint"]] = a
                            else:
                                active.pop(a["fingerprint"], None)
                    seq = outer.events[-1][0] if outer.events else 0
                self._answer(200, {"run": run, "cursor": "%s-%d" % (outer.epoch, seq),
                                   "active": list(active.values()), "events": [a for _, a in evs]})

            def _answer(self, code, obj):
                out = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, run, detector="non_finite", severity="critical", status="firing", step=1,
                family="instability", fingerprint=None):
        with self.cond:
            seq = len(self.events) + 1
            a = {"version": 1, "run": run, "family": family, "detector": detector, "severity": severity,
                 "status": status, "step": step, "time_ms": int(time.time() * 1000),
                 "fingerprint": fingerprint or (run + "/" + detector), "summary": detector + " test alert",
                 "remedy": "do something", "evidence": {}}
            self.events.append((seq, a))
            self.cond.notify_all()
        return a

    def records(self, run=None):
        with self.cond:
            recs = [json.loads(l) for l in self.lines]
        return [r for r in recs if run is None or r["run"] == run]

    def wait_for(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def close(self):
        self.server.shutdown()
        self.server.server_close()
