"""Per-task evaluation accuracies for continual learning (``eval/acc/<task>``).

    accs = task_accuracies(model, {"t0": loader0, "t1": loader1})   # {"eval/acc/t0": 0.98, ...}
    tw.log(accs)                         # or Monitor.log(step, accs), or from a callback

The ``old_task_drop`` detector (family ``stability_gap``) reads ``eval/acc/<task>`` at the steps
it is sent; evaluating every few steps right after a task switch is what makes the gap visible
(it lasts tens of steps).
"""


class TaskAccuracy:
    """Accumulates correct/total per task; ``metrics()`` gives ``{"eval/acc/<task>": acc}``."""

    def __init__(self):
        self._counts = {}

    def add(self, task, correct, total):
        c = self._counts.setdefault(str(task), [0, 0])
        c[0] += int(correct)
        c[1] += int(total)

    def metrics(self, reset=True):
        out = {"eval/acc/" + t: c / n for t, (c, n) in self._counts.items() if n > 0}
        if reset:
            self._counts = {}
        return out


def task_accuracies(model, loaders, predict=None, max_batches=None, device=None):
    """Accuracy of ``model`` on each task's loader of ``(inputs, labels)`` batches.

    ``predict(model, inputs)`` returns class predictions (default: argmax of ``model(inputs)``
    over the last axis). The model is put in eval mode and back. Sums on the device and syncs
    once per task.
    """
    import torch

    was_training = model.training
    model.eval()
    acc = TaskAccuracy()
    try:
        with torch.no_grad():
            for task, loader in loaders.items():
                correct = total = None
                for i, (x, y) in enumerate(loader):
                    if max_batches is not None and i >= max_batches:
                        break
                    if device is not None:
                        x, y = x.to(device), y.to(device)
                    pred = predict(model, x) if predict is not None else model(x).argmax(-1)
                    c = (pred == y).sum()
                    correct = c if correct is None else correct + c
                    total = y.numel() if total is None else total + y.numel()
                if total:
                    acc.add(task, int(correct), total)
    finally:
        model.train(was_training)
    return acc.metrics()
