"""A real training script for TrainerAlertsIT (not a unittest module): a small MLP trained with
trainwatch.watch against the real sidecar; batches 40-44 carry a NaN, so the loss and the
gradients are NaN and the detection job raises non_finite.

    python trainer_alerts.py URL RUN stop|skip OUT.json

stop: StopOnCritical -> StopTraining ends the loop.
skip: Rollback (restore the step-30 checkpoint) + SkipStepWhileNonFinite: after the alert the
      weights are restored, steps are skipped until the detector resolves (50 finite records),
      then training resumes; the script ends 30 updates after that.
"""

import copy
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import trainwatch  # noqa: E402
from trainwatch import Rollback, SkipStepWhileNonFinite, StopOnCritical, StopTraining  # noqa: E402

POISON = range(40, 45)
CHECKPOINT = 30
MAX_STEPS = 3000


def main():
    url, run, mode, out = sys.argv[1:5]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    saved = {}
    result = {"mode": mode, "poison_step": POISON.start, "checkpoint_step": CHECKPOINT, "max_steps": MAX_STEPS,
              "rollbacks": 0, "alerts": []}

    def rollback(alert):
        model.load_state_dict(saved["state"])
        opt.load_state_dict(saved["opt"])
        result["rollbacks"] += 1
        result["rolled_back_to"] = saved["step"]
        print("rolled back to step %d on %r" % (saved["step"], alert), flush=True)

    policies = [StopOnCritical()] if mode == "stop" else \
        [SkipStepWhileNonFinite(), Rollback(rollback, detectors=["non_finite"])]
    tw = trainwatch.watch(model, opt, run=run, url=url, policies=policies, attention=False,
                          config={"lr": 0.05, "mode": mode})
    seen = {}

    def on_alert(a):
        result["alerts"].append("%s:%s" % (a.detector, a.status))
        seen.setdefault((a.detector, a.status), time.time())
    tw.monitor.on_alert(on_alert)
    t_poison = None
    resumed_at = None
    step = 0
    try:
        for step in range(1, MAX_STEPS + 1):
            x, y = torch.randn(16, 8), torch.randint(0, 4, (16,))
            if step in POISON:
                x[0, 0] = float("nan")
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            if step == CHECKPOINT:
                saved.update(step=step, state=copy.deepcopy(model.state_dict()), opt=copy.deepcopy(opt.state_dict()))
                tw.monitor.event(step, "checkpoint")
            was_skipping = tw.skipping
            tw.step(loss, labels=y)
            if step == POISON.start:
                t_poison = time.time()
            if was_skipping and not tw.skipping and resumed_at is None:
                resumed_at = step
            if resumed_at is not None and step - resumed_at >= 30:
                break
            time.sleep(0.02)  # a training step's pace; keeps the shared CPU free
    except StopTraining as e:
        result["stopped_by"] = e.alert.detector
    result["last_step"] = step
    result["skipped_steps"] = tw.policies.skipped_steps
    result["updates_after_resume"] = step - resumed_at if resumed_at is not None else 0
    result["weights_finite"] = all(bool(torch.isfinite(p).all()) for p in model.parameters())
    result["final_loss"] = float(loss) if torch.isfinite(loss) else None
    if t_poison is not None and ("non_finite", "firing") in seen:
        result["latency_ms"] = (seen[("non_finite", "firing")] - t_poison) * 1000.0
    tw.close()
    result["client"] = tw.monitor.stats()
    with open(out, "w") as f:
        json.dump(result, f)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
