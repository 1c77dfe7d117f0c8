"""What every integration shares: a Monitor, a Capture, the alert policies, the step skipper.

The integrations (``watch`` for plain loops, ``lightning.TrainwatchCallback``,
``huggingface.TrainwatchCallback``) differ only in where they find the step boundaries, the
loss and the labels; this class does the rest in one place.
"""

import logging

import torch

from .alerts import PolicyRunner
from .capture import Capture
from .monitor import Monitor

_log = logging.getLogger("trainwatch")

# FORMAT limits (wire validator): 64 tags, names 256 and values 1024 characters
_MAX_TAGS = 64
_MAX_VALUE = 1024


def config_tags(config, prefix="config."):
    """A flat ``{name: str}`` of a (nested) run config, within the record format's tag limits."""
    out = {}

    def walk(p, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(p + str(k) + ".", x)
        else:
            out[p[:-1][:256]] = str(v)[:_MAX_VALUE]
    if config:
        walk(prefix, dict(config) if not isinstance(config, dict) else config)
    return out


class Session:
    """One run: capture, log, apply policies. ``finish_step`` returns the policies' Decision."""

    def __init__(self, model, optimizer=None, *, monitor=None, run=None, url=None, path=None,
                 tags=None, config=None, policies=None, framework="torch", capture_kwargs=None):
        if monitor is None:
            if run is None:
                raise ValueError("give monitor=Monitor(...) or run= with url= or path=")
            monitor = Monitor(run, url=url, path=path)
        self.monitor = monitor
        self.capture = Capture(model, optimizer, **(capture_kwargs or {}))
        self.framework = framework
        self._tags = dict(tags or {})
        self._config = config
        self._started = False
        self._model = model
        feed = monitor.feed() if policies else None
        self.policies = PolicyRunner(feed, policies)
        self._skipper = None
        if optimizer is not None and policies:
            self._skipper = StepSkipper(optimizer, self.policies)

    @property
    def stopped_by(self):
        return self.policies.stopped_by

    def start(self, step=0, tags=None):
        """Sends run_start with the run's tags and config, once."""
        if self._started:
            return
        self._started = True
        t = {"framework": self.framework, "model": type(self._model).__name__,
             "torch": torch.__version__.split("+")[0],
             "params": str(sum(p.numel() for p in self._model.parameters()))}
        if self.capture.optimizer is not None:
            t["optimizer"] = type(self.capture.optimizer).__name__
        if self.capture.head is not None:
            w = getattr(self.capture.head, "weight", None)
            if isinstance(w, torch.Tensor):
                t["dtype"] = str(w.dtype).replace("torch.", "")
        t.update(tags or {})
        t.update(self._tags)
        t.update(config_tags(self._config))
        if len(t) > _MAX_TAGS:
            _log.warning("trainwatch: %d tags, the record format takes %d: keeping the first", len(t), _MAX_TAGS)
            t = dict(list(t.items())[:_MAX_TAGS])
        self.monitor.log(step, event="run_start", tags=t)

    def finish_step(self, step, extra=None):
        metrics, sample = self.capture.end(extra)
        if metrics or sample:
            self.monitor.log(step, metrics, logits=sample)
        return self.policies.step_boundary()

    def event(self, step, name, task=None):
        self.monitor.event(step, name, task=task)

    def close(self, step=None, close_monitor=True):
        if step is not None and self._started:
            self.monitor.event(step, "run_end")
        self.capture.remove()
        if self._skipper is not None:
            self._skipper.remove()
        if close_monitor:
            self.monitor.close()


class StepSkipper:
    """Wraps ``optimizer.step`` so that it is skipped while the policies say so.

    A skipped step still runs its closure (Lightning's closure does forward and backward), so
    the telemetry keeps flowing and shows when the run is healthy again.
    """

    def __init__(self, optimizer, runner):
        self.optimizer = optimizer
        self.runner = runner
        self._orig = optimizer.step
        skipper = self

        def step(closure=None, *args, **kwargs):
            if skipper.runner.skipping:
                skipper.runner.skipped_steps += 1
                return closure() if closure is not None else None
            if closure is None:
                return skipper._orig(*args, **kwargs)
            return skipper._orig(closure, *args, **kwargs)
        step.__wrapped__ = self._orig
        optimizer.step = step

    def remove(self):
        if getattr(self.optimizer.step, "__wrapped__", None) is self._orig:
            self.optimizer.step = self._orig
