"""A plain PyTorch training loop that goes wrong, watched by trainwatch.

A small MLP learns a synthetic 10-class problem with SGD on CPU. At step 300 a (deliberately)
bad schedule multiplies the learning rate by 400, as a typo in an LR schedule or a resumed run
with the wrong LR would: the loss explodes within a few steps. trainwatch warns on the LR jump,
calls the loss explosion critical, and the alert comes back to this script, which stops the
run instead of training on garbage.

    pip install "./ingest/python[torch]"      # the client and its torch helpers
    bin/trainwatch up                          # in another terminal: the stack on 127.0.0.1:8787
    python examples/lr_jump.py                 # about 15 s of training; it stops a few seconds after the LR jump

Options: --url (default http://127.0.0.1:8787), --run, --steps, --jump-at, --jump.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from trainwatch import Monitor
from trainwatch.torch_metrics import UpdateRatio, grad_param_stats, logit_stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8787", help="the intake printed by `trainwatch up`")
    ap.add_argument("--run", default="lr-jump-" + time.strftime("%Y%m%d-%H%M%S"), help="run id (unique per run)")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--jump-at", type=int, default=300, help="step at which the LR is multiplied")
    ap.add_argument("--jump", type=float, default=400.0, help="LR multiplier at --jump-at")
    ap.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the alert after training")
    args = ap.parse_args()

    torch.manual_seed(0)
    x = torch.randn(4096, 32)
    y = (x @ torch.randn(32, 10)).argmax(dim=1)  # a learnable 10-class problem
    model = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    ratio = UpdateRatio(model)

    mon = Monitor(args.run, url=args.url, tags={"dtype": "float32", "optimizer": "sgd", "model": "mlp"})
    critical = []

    def on_alert(a):  # called on the client's feed thread for every alert event of this run
        print(f"[trainwatch] {a.status} {a.severity} {a.family}/{a.detector} at step {a.step}: {a.summary}"
              + (f"\n    remedy: {a.remedy}" if a.firing and a.remedy else ""), flush=True)
        if a.firing and a.at_least("critical"):
            critical.append(a)

    mon.on_alert(on_alert)
    mon.event(0, "run_start")
    step = 0
    for step in range(1, args.steps + 1):
        if step == args.jump_at:
            for g in opt.param_groups:
                g["lr"] *= args.jump
        idx = torch.randint(0, x.shape[0], (128,))
        logits = model(x[idx])
        loss = F.cross_entropy(logits, y[idx])
        opt.zero_grad()
        loss.backward()
        metrics = logit_stats(logits, y[idx])
        metrics.update(grad_param_stats(model))
        ratio.before()
        opt.step()
        metrics.update(ratio.after())
        mon.log(step, metrics, loss=loss.item(), lr=opt.param_groups[0]["lr"])
        if critical:  # the detection job said the run is lost: stop, as the remedy says
            print(f"stopping at step {step}: critical alert from trainwatch", flush=True)
            break
        # a real step takes longer: 30 ms keeps the telemetry rate realistic and leaves the alert
        # (2-3 s from the exploding step to this process with `up`'s 2 s checkpoints) time to
        # arrive while the run is still training, so the script can stop it
        time.sleep(0.03)
    deadline = time.time() + args.wait
    while not critical and time.time() < deadline:
        time.sleep(0.5)
    mon.event(step, "run_end")
    mon.close()
    print(f"run {args.run}: {step} steps, {len(critical)} critical alert(s); stats {mon.stats()}", flush=True)


if __name__ == "__main__":
    main()
