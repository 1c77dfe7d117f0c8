"""Benchmark, not a test: cost of Monitor.log() per call on the training thread.

    python3 ingest/python/bench_log.py [calls]
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trainwatch import Monitor  # noqa: E402


def bench(mon, n):
    t0 = time.perf_counter_ns()
    for step in range(n):
        mon.log(step, loss=0.0123, grad_norm=0.45, lr=1e-3)
    return (time.perf_counter_ns() - t0) / n


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    with tempfile.TemporaryDirectory() as d:
        mon = Monitor("bench", path=os.path.join(d, "t.jsonl"), max_queue=10 * n)
        bench(mon, 10000)  # warm-up
        ns = min(bench(mon, n) for _ in range(3))
        mon.flush(60)
        mon.close()
        print("Monitor.log(step, 3 metrics): %.0f ns/call (best of 3 x %d calls, %s, background writer on)"
              % (ns, n, sys.version.split()[0]))
        s = mon.stats()
        print("logged=%d sent=%d dropped=%d" % (s["logged"], s["sent"], s["dropped"]))
        # the call alone, with the background thread idle during the loop (serialisation deferred)
        idle = Monitor("bench", path=os.path.join(d, "u.jsonl"), max_queue=10 * n,
                       batch_size=10 ** 9, flush_interval=3600)
        ns = min(bench(idle, n) for _ in range(3))
        idle.close(timeout=60)
        print("Monitor.log(step, 3 metrics): %.0f ns/call with the background thread idle" % ns)


if __name__ == "__main__":
    main()
