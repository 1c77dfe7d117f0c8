"""Benchmark, not a test: time from the record that triggers an alert to the training process
seeing it (through the real sidecar and detection job, which TrainerAlertLatencyBench starts).

    python bench_alert_latency.py URL [runs] [stagger_s]

Each of ``runs`` runs (threads, started over ``stagger_s`` seconds) logs healthy steps at 20
per second for 1-3 s, then one record with a NaN loss (t0: its ``log()`` call) and waits for
its non_finite alert through ``Monitor.on_alert`` (t1). Prints p50/p90/p99/max of t1 - t0 and
how many alerts never arrived within 30 s (at-least-once: none may be missing).
"""

import os
import random
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trainwatch import Monitor  # noqa: E402


def one(url, run, delay, out):
    time.sleep(delay)
    got = threading.Event()
    seen = {}

    def cb(a):
        if a.detector == "non_finite" and a.firing and "t" not in seen:
            seen["t"] = time.time()
            got.set()
    with Monitor(run, url=url) as mon:
        mon.on_alert(cb)
        mon.feed().received.wait(10)
        rng = random.Random(run)
        steps = int(20 * rng.uniform(1, 3))
        for step in range(steps):
            mon.log(step, loss=2.0 - step * 0.001, grad_norm=1.0, lr=1e-3)
            time.sleep(0.05)
        t0 = time.time()
        mon.log(steps, loss=float("nan"), grad_norm=1.0, lr=1e-3)
        ok = got.wait(30)
        out[run] = (seen["t"] - t0) if ok else None


def main():
    url = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    stagger = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    out = {}
    threads = [threading.Thread(target=one, args=(url, "lat-%d-%d" % (os.getpid(), i), stagger * i / runs, out))
               for i in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = sorted(v * 1000 for v in out.values() if v is not None)
    missing = sum(1 for v in out.values() if v is None)

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))] if lat else float("nan")
    print("record-to-trainer alert latency over %d runs: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms, "
          "mean %.0f ms; missing %d" % (len(out), pct(50), pct(90), pct(99), lat[-1] if lat else float("nan"),
                                        statistics.mean(lat) if lat else float("nan"), missing))


if __name__ == "__main__":
    main()
