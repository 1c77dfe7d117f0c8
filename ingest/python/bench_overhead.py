"""Benchmark, not a test: trainwatch's overhead per training step on a small CPU transformer.

    $(bin/pyenv)/bin/python ingest/python/bench_overhead.py [steps_per_mode] [block]

The model of issue 18's measurement: 4 pre-LN layers, d=128, 4 heads, batch 32 x 64 tokens,
vocab 256, AdamW, scaled_dot_product_attention with a causal mask. Modes (plain, defaults, then
each statistic alone every step) run in interleaved blocks; the mean CPU time per step of each
mode is reported with its overhead against plain. BENCH_THREADS sets torch's threads (default 1).
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
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    block = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    data = [torch.randint(0, 256, (32, 65)) for _ in range(8)]
    with tempfile.TemporaryDirectory() as d:
        # one identical model per mode, each with its own Watch, so that blocks of every mode
        # interleave (load on the shared machine spreads over all of them) while the sampled
        # statistics keep their own step counters
        setups = {}
        for mode, every in MODES.items():
            torch.manual_seed(0)
            model = TinyLM(vocab=256, d=128, heads=4, layers=4, ctx=64)
            opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
            tw = trainwatch.watch(model, opt, run="bench-%d" % len(setups), path=os.path.join(d, "t.jsonl"),
                                  every=every) if every is not None else None
            setups[mode] = (model, opt, tw, [])

        def run(mode, n, record=True):
            model, opt, tw, times = setups[mode]
            for i in range(n):
                b = data[i % len(data)]
                x, y = b[:, :-1], b[:, 1:]
                # CPU time of the process (training thread and trainwatch's sender thread): the
                # wall clock of a machine shared by several engineers is too noisy for 3%
                t0 = time.process_time()
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
                if record:
                    times.append(time.process_time() - t0)
        for mode in MODES:
            run(mode, 3, record=False)  # warm-up
        for _ in range(steps // block):
            for mode in MODES:
                run(mode, block)
        for _, _, tw, _ in setups.values():
            if tw is not None:
                tw.close()
    plain = statistics.mean(setups["plain"][3])
    print("trainwatch overhead per step: CPU time, mean of %d steps per mode in interleaved blocks of %d "
          "(torch %s, %d thread(s); 4 layers d=128, 4 heads, batch 32x64, vocab 256, AdamW)"
          % (steps, block, torch.__version__.split("+")[0], torch.get_num_threads()))
    print("%-48s %10s %10s" % ("mode", "ms/step", "overhead"))
    for mode, (_, _, _, ts) in setups.items():
        m = statistics.mean(ts)
        print("%-48s %10.1f %9.1f%%" % (mode, m * 1e3, (m / plain - 1) * 100))


if __name__ == "__main__":
    main()
