#!/usr/bin/env python3
"""Records the telemetry `bin/trainwatch demo` plays: six small PyTorch runs on CPU.

Each run trains a real torch model and logs every optimizer step with the project's own
client (``trainwatch.Monitor(run, path=...)`` and ``trainwatch.torch_metrics``), exactly as a
user's training script would; the JSON Lines the client writes are gzipped into the demo's
resources together with a ``labels.json`` in the format of ``shared/eval/FORMAT.md`` (onsets
and gaps computed from the recorded metrics with the definitions used there), so the
recordings can be scored like the public traces:

    PYTHONPATH=ingest/python "$(bin/pyenv)/bin/python" examples/record_demo.py
    bin/trainwatch evaluate --traces jobs/tools/src/main/resources/demo --alerts-out /tmp/a.jsonl
    python3 ../shared/eval/score.py --labels jobs/tools/src/main/resources/demo/labels.json --alerts /tmp/a.jsonl

Runs (seeded; the metrics are equal from one regeneration to the next on the same torch
build, only ``time_ms`` differs, and the demo replaces it with the time of playing):

  sc-mlp-p23-s1        softmax_collapse  (a+b) mod 23, bias-free MLP, full batch, Adam
                                         b2=0.95, no weight decay, float32
  mlp-p23-wd1-s1       healthy           the same with AdamW weight decay 1
  lr-mlp-lr2e-1-s1     divergence        MLP on 10 Gaussian clusters, Adam, warm-up to LR 0.2
  lr-mlp-lr3e-3-s1     healthy           the same at LR 3e-3
  attn-maj-lr3e-1-s1   divergence        one nn.MultiheadAttention layer, majority vote, warm-up
                                         to LR 0.3 (attention logits explode)
  cl-gauss-ci-replay-s1 stability_gap    4 class-incremental tasks of 2 Gaussian classes, SGD,
                                         a small replay buffer

About a minute of CPU in total (torch limited to one thread).
"""

import argparse
import gzip
import json
import math
import os
import shutil
import sys
import tempfile
import time

try:
    import trainwatch  # noqa: F401  (pip install ./ingest/python)
except ImportError:  # run from a checkout: use the client next door
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ingest", "python"))

import torch
import torch.nn.functional as F

from trainwatch import Monitor
from trainwatch.torch_metrics import AttentionStats, UpdateRatio, grad_param_stats, logit_stats, logits_sample

SEED = 1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "jobs", "tools", "src", "main", "resources", "demo")


def gaussian_clusters(classes, dim, separation, gen):
    """Class c is N(mu_c, I) with centres drawn once as N(0, separation^2 I): overlapping clusters."""
    return torch.randn(classes, dim, generator=gen) * separation


def sample(centres, labels, gen):
    return centres[labels] + torch.randn(len(labels), centres.shape[1], generator=gen), labels


def mlp(sizes, gen, he_init=True):
    """Bias-free ReLU MLP; He-initialised weights drawn from ``gen`` or torch's default init (smaller:
    std 1/sqrt(3 fan_in), so the first loss is close to ln(classes))."""
    layers = []
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1], bias=False)
        if he_init:
            with torch.no_grad():
                lin.weight.copy_(torch.randn(sizes[i + 1], sizes[i], generator=gen) * math.sqrt(2.0 / sizes[i]))
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def step_metrics(model, loss, logits, labels, lr, saturation=True):
    """The FORMAT.md metrics of one step, after backward() and before optimizer.step()."""
    m = {"loss": loss.item(), "lr": lr}
    m.update(grad_param_stats(model))
    s = logit_stats(logits, labels)  # in the training dtype (float32)
    if not saturation:
        # Only the softmax-collapse pair publishes the saturation fractions, as in the public
        # traces: a diverging or continual-learning run also saturates a few per cent of its
        # samples now and then, which is not what those runs are about.
        s.pop("logits/zero_loss_frac", None)
        s.pop("logits/absorbed_frac", None)
    m.update(s)
    m["train/acc"] = (logits.argmax(-1) == labels).double().mean().item()
    return m


def event_at(step, steps):
    return "run_start" if step == 0 else "run_end" if step == steps - 1 else None


def modular_addition(mon, weight_decay, steps=1000, p=23, hidden=64, lr=0.01, beta2=0.95, seed=SEED):
    """(a+b) mod p with a bias-free MLP on one-hot pairs, full batch, float32 (after Prieto et al. 2025).

    Without weight decay the model fits the training pairs, then keeps scaling its logits
    until the float32 softmax absorbs every other class (per-sample loss exactly 0). beta2
    sets the speed: once fitted, Adam's step stays lr-sized only while the gradient shrinks no
    faster than its second-moment average forgets (~ -ln(beta2)/2 nats of margin per step).
    """
    gen = torch.Generator().manual_seed(seed)
    pairs = torch.randperm(p * p, generator=gen)
    n_train = round(0.5 * p * p)
    a, b = pairs // p, pairs % p
    x = torch.cat([F.one_hot(a, p), F.one_hot(b, p)], dim=1).float()
    y = (a + b) % p
    xt, yt, xe, ye = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    model = mlp([2 * p, hidden, p], gen)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, beta2), eps=1e-8, weight_decay=weight_decay)
    ratio = UpdateRatio(model)
    for step in range(steps):
        logits = model(xt)
        loss = F.cross_entropy(logits, yt)
        opt.zero_grad()
        loss.backward()
        m = step_metrics(model, loss, logits, yt, lr)
        if step % 25 == 0:
            with torch.no_grad():
                m["eval/acc"] = (model(xe).argmax(-1) == ye).double().mean().item()
        ratio.before()
        opt.step()
        m.update(ratio.after())
        mon.log(step, m, event=event_at(step, steps),
                logits=logits_sample(logits, yt, rows=8) if step % 50 == 0 else None)


def learning_rate(mon, peak_lr, steps=600, warmup=400, classes=10, dim=16, hidden=64, batch=64, seed=SEED):
    """A ReLU MLP on overlapping Gaussian clusters, Adam, linear warm-up to a constant peak LR.

    A modest peak trains healthily; a too-large one trains while the warm-up LR is small, then
    Adam's lr-sized steps throw the weights out of the basin and the loss rises and stays up
    (divergence without NaN, like the public lm-char-*-lr1e-1 traces).
    """
    gen = torch.Generator().manual_seed(seed)
    centres = gaussian_clusters(classes, dim, 0.7, gen)
    torch.manual_seed(seed)
    # torch's default init: the run starts near ln(10) instead of He's ~4.5, so the progress it
    # can give back is the learning itself (the divergence detector measures the rise against it)
    model = mlp([dim, hidden, hidden, classes], gen, he_init=False)
    opt = torch.optim.Adam(model.parameters(), lr=peak_lr, betas=(0.9, 0.95), eps=1e-8)
    ratio = UpdateRatio(model)
    for step in range(steps):
        lr = peak_lr * (step + 1) / warmup if step < warmup else peak_lr
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = sample(centres, torch.randint(classes, (batch,), generator=gen), gen)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        m = step_metrics(model, loss, logits, y, lr, saturation=False)
        ratio.before()
        opt.step()
        m.update(ratio.after())
        mon.log(step, m, event=event_at(step, steps),
                logits=logits_sample(logits, y, rows=8) if step % 50 == 0 else None)


class MajorityVote(torch.nn.Module):
    """Token embedding + one single-head nn.MultiheadAttention layer read at the last (query) position."""

    def __init__(self, vocab, length, d, classes):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        self.pos = torch.nn.Parameter(torch.randn(length, d) * 0.1)
        self.attn = torch.nn.MultiheadAttention(d, 1, bias=False, batch_first=True)
        self.out = torch.nn.Linear(d, classes, bias=False)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos
        q = h[:, -1:, :]
        o, _ = self.attn(q, h, h, need_weights=False)
        return self.out(o[:, 0, :])


def attention(mon, peak_lr, steps=600, warmup=200, classes=8, noise_tokens=8, length=8, d=16, batch=32,
              label_noise=0.1, seed=SEED):
    """Majority vote: the first length-1 tokens hold the majority class (half of them, rounded up)
    and distractors, the last a noise (query) token that must average its attention over the
    sequence. 10% random labels give the loss a floor. With a too-large LR the attention logits
    grow until attention is one-hot on one (often distractor) token and the loss rises and stays up.
    """
    torch.manual_seed(seed)  # the module's own initialisers
    gen = torch.Generator().manual_seed(seed)
    model = MajorityVote(classes + noise_tokens, length, d, classes)
    attn = AttentionStats(model)
    opt = torch.optim.Adam(model.parameters(), lr=peak_lr, betas=(0.9, 0.95), eps=1e-8)
    ratio = UpdateRatio(model)
    for step in range(steps):
        lr = peak_lr * (step + 1) / warmup if step < warmup else peak_lr
        for g in opt.param_groups:
            g["lr"] = lr
        majority = torch.randint(classes, (batch,), generator=gen)
        offset = 1 + torch.randint(classes - 1, (batch, length - 1), generator=gen)
        is_major = torch.argsort(torch.rand(batch, length - 1, generator=gen), dim=1) < length // 2
        ctx = torch.where(is_major, majority[:, None], (majority[:, None] + offset) % classes)
        query = classes + torch.randint(noise_tokens, (batch, 1), generator=gen)
        tokens = torch.cat([ctx, query], dim=1)
        noisy = torch.rand(batch, generator=gen) < label_noise
        y = torch.where(noisy, torch.randint(classes, (batch,), generator=gen), majority)
        logits = model(tokens)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        m = step_metrics(model, loss, logits, y, lr, saturation=False)
        m.update(attn.collect())
        ratio.before()
        opt.step()
        m.update(ratio.after())
        mon.log(step, m, event=event_at(step, steps))


def continual(mon, tasks=4, per_task=2, steps_per_task=150, dim=20, hidden=64, lr=0.3, batch=32,
              replay_capacity=100, replay_batch=8, eval_per_class=50, seed=SEED):
    """Class-incremental learning (task t holds classes 2t, 2t+1; one shared head), plain SGD, and a
    small replay buffer mixed into every batch: right after each switch the accuracy on earlier
    tasks drops sharply (the stability gap of De Lange et al. 2023) and partly recovers."""
    gen = torch.Generator().manual_seed(seed)
    classes = tasks * per_task
    centres = gaussian_clusters(classes, dim, 0.5, gen)
    model = mlp([dim, hidden, classes], gen)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    ratio = UpdateRatio(model)
    held_out = [sample(centres, torch.arange(t * per_task, (t + 1) * per_task).repeat(eval_per_class), gen)
                for t in range(tasks)]
    memory_x, memory_y = torch.empty(0, dim), torch.empty(0, dtype=torch.long)
    steps = tasks * steps_per_task
    for step in range(steps):
        task = step // steps_per_task
        switched = step > 0 and step % steps_per_task == 0
        if switched:  # the finished task's samples enter the memory only now
            old = torch.arange((task - 1) * per_task, task * per_task)
            x_old, y_old = sample(centres, old[torch.randint(per_task, (replay_capacity,), generator=gen)], gen)
            memory_x, memory_y = torch.cat([memory_x, x_old]), torch.cat([memory_y, y_old])
            keep = torch.randperm(len(memory_y), generator=gen)[:replay_capacity]  # class-balanced in expectation
            memory_x, memory_y = memory_x[keep], memory_y[keep]
        current = torch.arange(task * per_task, (task + 1) * per_task)
        x, y = sample(centres, current[torch.randint(per_task, (batch,), generator=gen)], gen)
        if len(memory_y):
            pick = torch.randint(len(memory_y), (replay_batch,), generator=gen)
            x, y = torch.cat([x, memory_x[pick]]), torch.cat([y, memory_y[pick]])
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        m = step_metrics(model, loss, logits, y, lr, saturation=False)
        ratio.before()
        opt.step()
        m.update(ratio.after())
        with torch.no_grad():
            accs = [(model(hx).argmax(-1) == hy).double().mean().item() for hx, hy in held_out[:task + 1]]
        for t, acc in enumerate(accs):
            m["eval/acc/t%d" % t] = acc
        m["eval/acc"] = sum(accs) / len(accs)
        mon.log(step, m, task="t%d" % task,
                event=event_at(step, steps) or ("task_start" if switched else None))


RUNS = [
    # run, kind, trainer, tags
    ("sc-mlp-p23-s1", "softmax_collapse", lambda mon: modular_addition(mon, weight_decay=0.0),
     {"model": "mlp-onehot46-h64-nobias", "optimizer": "adam(b2=0.95,eps=1e-08)", "lr": "0.01",
      "weight_decay": "0.0", "task": "mod_add_p23", "train_frac": "0.5", "batch": "full"}),
    ("mlp-p23-wd1-s1", "healthy", lambda mon: modular_addition(mon, weight_decay=1.0),
     {"model": "mlp-onehot46-h64-nobias", "optimizer": "adamw(b2=0.95,eps=1e-08)", "lr": "0.01",
      "weight_decay": "1.0", "task": "mod_add_p23", "train_frac": "0.5", "batch": "full"}),
    ("lr-mlp-lr2e-1-s1", "divergence", lambda mon: learning_rate(mon, 0.2),
     {"model": "mlp-16-64-64-10-nobias", "optimizer": "adam(b2=0.95,eps=1e-08)", "lr": "0.2",
      "schedule": "const", "warmup": "400", "dataset": "gaussian-clusters-d16", "batch": "64"}),
    ("lr-mlp-lr3e-3-s1", "healthy", lambda mon: learning_rate(mon, 0.003),
     {"model": "mlp-16-64-64-10-nobias", "optimizer": "adam(b2=0.95,eps=1e-08)", "lr": "0.003",
      "schedule": "const", "warmup": "400", "dataset": "gaussian-clusters-d16", "batch": "64"}),
    ("attn-maj-lr3e-1-s1", "divergence", lambda mon: attention(mon, 0.3),
     {"model": "attn-L1-h1-d16-T8", "optimizer": "adam(b2=0.95,eps=1e-08)", "lr": "0.3",
      "schedule": "const", "warmup": "200", "task": "majority-vote", "batch": "32", "qk_layernorm": "False"}),
    ("cl-gauss-ci-replay-s1", "stability_gap", lambda mon: continual(mon),
     {"model": "mlp-20-64-8-nobias", "optimizer": "sgd", "lr": "0.3", "scenario": "class_inc",
      "dataset": "gaussian-clusters-d20", "iters_per_task": "150", "batch": "32", "replay_buffer": "100",
      "replay_batch": "8"}),
]


# ---- labels, with the definitions of shared/eval/labels.json ----------------------------------

def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def collapse_label(records):
    onset = next((r["step"] for r in records if r["metrics"].get("logits/absorbed_frac", 0) >= 0.5), None)
    return {"onset_step": onset, "definition": "first step with logits/absorbed_frac >= 0.5 (full training set, "
            "float32 softmax of the true class == 1.0)",
            "max_absorbed_frac": max(r["metrics"].get("logits/absorbed_frac", 0) for r in records)}


def collapse_control_label(records):
    return {"definition": "softmax-collapse control: logits/absorbed_frac < 0.01 at every step",
            "max_absorbed_frac": max(r["metrics"].get("logits/absorbed_frac", 0) for r in records)}


def divergence_onset(records, warmup):
    loss = [r["metrics"]["loss"] for r in records]
    m20 = [sum(loss[max(0, i - 19):i + 1]) / len(loss[max(0, i - 19):i + 1]) for i in range(len(loss))]
    b = min(warmup, 100)
    for s in range(b + 20, len(loss)):
        if not math.isfinite(loss[s]):
            return s
        threshold = 1.5 * min(m20[b + 19:s])
        if m20[s] > threshold and all(v > threshold for v in m20[s:s + 50]) and s + 50 <= len(loss):
            return s
    return None


def divergence_label(records, warmup):
    return {"onset_step": divergence_onset(records, warmup),
            "definition": "m20 = 20-step trailing mean of loss; B = min(warmup, 100); first step s where loss is "
            "NaN/Inf, or m20[s] > 1.5 x min(m20[B+19..s-1]) and m20 stays above that threshold for the 50 "
            "consecutive steps from s", "trigger": "sustained"}


def gap_label(records):
    gaps = []
    switches = [i for i, r in enumerate(records) if r.get("event") == "task_start"]
    for s in switches:
        for u in range(int(records[s]["task"][1:])):
            name = "eval/acc/t%d" % u
            before = records[s - 1]["metrics"][name]
            window = [(r["step"], r["metrics"][name]) for r in records[s:s + 100]]
            min_step, acc_min = min(window, key=lambda sv: sv[1])
            final = sum(v for _, v in window[-10:]) / 10
            recovered = next((st for st, v in window if st > min_step and v >= final - 0.05), None)
            if before - acc_min >= 0.10:
                gaps.append({"task_switch_step": records[s]["step"], "task": records[s]["task"],
                             "affected": "t%d" % u, "acc_before": before, "acc_min": acc_min,
                             "min_step": min_step, "recovered_step": recovered, "window_final": round(final, 4)})
    return {"definition": "per task switch S and earlier task u: acc_before = eval/acc/u at last record before S; "
            "acc_min, min_step = min of eval/acc/u over steps [S, S+99]; final = mean of last 10 evals in that "
            "window; recovered_step = first step > min_step with acc >= final - 0.05 (null if none); listed "
            "when acc_before - acc_min >= 0.10", "gaps": gaps}


def label(run, kind, tags, records):
    if kind == "softmax_collapse":
        extra = collapse_label(records)
    elif kind == "divergence":
        extra = divergence_label(records, int(tags["warmup"]))
    elif kind == "stability_gap":
        extra = gap_label(records)
    elif "weight_decay" in tags:
        extra = collapse_control_label(records)
    else:
        extra = {"definition": "divergence control: never 1.5x its best 20-step mean loss for 50 steps",
                 "divergence_onset_step": divergence_onset(records, int(tags["warmup"]))}
    return dict({"run": run, "file": run + ".jsonl.gz", "steps": len(records), "kind": kind}, **extra,
                notes=", ".join("%s=%s" % kv for kv in tags.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT, help="directory of the recordings (default: the demo's resources)")
    ap.add_argument("--only", nargs="*", help="record only these runs (labels.json is then not rewritten)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic reductions, and the machine is shared
    os.makedirs(args.out, exist_ok=True)
    labels = []
    with tempfile.TemporaryDirectory() as tmp:
        for run, kind, train, tags in RUNS:
            if args.only and run not in args.only:
                continue
            path = os.path.join(tmp, run + ".jsonl")
            t0 = time.time()
            mon = Monitor(run, path=path, tags=dict({"dtype": "float32", "source": "trainwatch-demo"}, **tags))
            train(mon)
            mon.close(timeout=30)
            stats = mon.stats()
            if stats["sent"] != stats["logged"]:
                raise SystemExit("%s: the client wrote %d of %d records: %s" % (run, stats["sent"], stats["logged"],
                                                                               stats))
            records = read(path)
            labels.append(label(run, kind, tags, records))
            with open(path, "rb") as src, gzip.GzipFile(os.path.join(args.out, run + ".jsonl.gz"), "wb",
                                                         mtime=0) as dst:
                shutil.copyfileobj(src, dst)
            print("%-22s %-16s %5d records in %5.1f s  %s" % (run, kind, len(records), time.time() - t0,
                  {k: v for k, v in labels[-1].items() if k in ("onset_step", "max_absorbed_frac")}
                  or len(labels[-1].get("gaps", []))), flush=True)
    if not args.only:
        with open(os.path.join(args.out, "labels.json"), "w", encoding="utf-8") as f:
            json.dump({"runs": labels}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
