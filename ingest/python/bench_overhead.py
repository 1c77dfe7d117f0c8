"""Benchmark, not a test: trainwatch's overhead per training step on a small CPU transformer.

    $(bin/pyenv)/bin/python ingest/python/bench_overhead.py [steps_per_block] [rounds]

The model of issue 18's measurement: 4 pre-LN layers, d=128, 4 heads, batch 32 x 64 tokens,
vocab 256, AdamW, scaled_dot_product_attention with a causal mask. Modes run in interleaved
blocks (plain, defaults, then each statistic alone every step) so that drift in the shared
machine's load spreads over all of them; the median step time of each mode is reported, and
the overhead against plain. BENCH_THREADS sets torch's threads (default 1).
"""

import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import trainwatch  # noqa: E402
from trainwatch.capture import Every  # noqa: E402
from tinymodels import TinyLM  # noqa: E402

MODES = {
    "plain": None,
    "defaults": Every(),
    "scalars every step (loss, lr, grad/param norm)": Every(1, 0, 0, 0, 0),
    "update_ratio + grad_weight_cos every step": Every(1, 1, 0, 0, 0),
    "logits/* every step (1024 rows)": Every(1, 0, 1, 0, 0),
    "raw logit rows every step": Every(1, 0, 0, 1, 0),
    "attention every step (2 sequences)": Every(1, 0, 0, 0, 1),
    "everything every step": Every.always(),
}


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    torch.manual_seed(0)
    model = TinyLM(vocab=256, d=128, heads=4, layers=4, ctx=64)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    data = [torch.randint(0, 256, (32, 65)) for _ in range(8)]
    times = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory() as d:
        def block(mode, n):
            every = MODES[mode]
            tw = trainwatch.watch(model, opt, run="bench", path=os.path.join(d, "t.jsonl"), every=every) \
                if every is not None else None
            out = []
            for i in range(n):
                b = data[i % len(data)]
                x, y = b[:, :-1], b[:, 1:]
                t0 = time.perf_counter()
                logits = model(x)
                loss = F.cross_entropy(logits.reshape(-1, 256), y.reshape(-1))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
                if tw is not None:
                    tw.step(loss, labels=y)
                else:
                    loss.item()  # a plain loop reads its loss too
                out.append(time.perf_counter() - t0)
            if tw is not None:
                tw.close()
            return out
        block("plain", 5)  # warm-up
        for _ in range(rounds):
            for mode in MODES:
                # defaults sample every 10/50/100 steps: measure them over whole periods
                n = 100 if mode == "defaults" else steps
                times[mode].extend(block(mode, n))
    plain = statistics.median(times["plain"])
    print("trainwatch overhead per step (%s, torch %s, %d thread(s), 4 layers d=128, batch 32x64, AdamW)"
          % (sys.platform, torch.__version__.split("+")[0], torch.get_num_threads()))
    print("%-48s %10s %10s" % ("mode", "ms/step", "overhead"))
    for mode, ts in times.items():
        # defaults: the mean over whole sampling periods (the sampled steps cost more); others: median
        m = statistics.mean(ts) if mode == "defaults" else statistics.median(ts)
        base = statistics.mean(times["plain"]) if mode == "defaults" else plain
        print("%-48s %10.1f %9.1f%%" % (mode, m * 1e3, (m / base - 1) * 100 if mode != "plain" else 0.0))


if __name__ == "__main__":
    main()
