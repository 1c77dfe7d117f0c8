"""trainwatch client: send training telemetry to the trainwatch ingest sidecar.

    from trainwatch import Monitor
    mon = Monitor("my-run", url="http://127.0.0.1:8787")   # or path="telemetry.jsonl"
    for step in range(n):
        ...
        mon.log(step, loss=loss.item(), lr=lr)
    mon.close()

Standard library only; ``trainwatch.torch_metrics`` needs PyTorch.
"""

from .monitor import Monitor

__all__ = ["Monitor"]
__version__ = "0.2.0"
