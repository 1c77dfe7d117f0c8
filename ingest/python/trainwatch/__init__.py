"""trainwatch client: send training telemetry to the trainwatch ingest sidecar.

    from trainwatch import Monitor
    mon = Monitor("my-run", url="http://127.0.0.1:8787")   # or path="telemetry.jsonl"
    for step in range(n):
        ...
        mon.log(step, loss=loss.item(), lr=lr)
    mon.close()

Standard library only. With torch: ``trainwatch.watch(model, optimizer, ...)`` for plain loops,
``trainwatch.lightning.TrainwatchCallback``, ``trainwatch.huggingface.TrainwatchCallback``,
``trainwatch.torch_metrics`` for the metrics one by one.
"""

from .alerts import Alert, Rollback, SkipStepWhileNonFinite, StopOnCritical, StopTraining
from .monitor import Monitor

__all__ = ["Monitor", "Alert", "StopOnCritical", "SkipStepWhileNonFinite", "Rollback", "StopTraining",
           "watch"]
__version__ = "0.2.0"


def watch(model, optimizer=None, **kwargs):
    """Plain PyTorch: attach to a model and optimizer (needs torch); see ``trainwatch.plain.Watch``."""
    from .plain import Watch
    return Watch(model, optimizer, **kwargs)
