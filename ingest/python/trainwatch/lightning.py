"""PyTorch Lightning: ``TrainwatchCallback``.

    from trainwatch.lightning import TrainwatchCallback
    from trainwatch import StopOnCritical
    trainer = L.Trainer(callbacks=[TrainwatchCallback(run="my-run", url="http://127.0.0.1:8787",
                                                      policies=[StopOnCritical()])])

Captures what ``trainwatch.capture`` lists; the loss from ``training_step``'s output; labels
from the batch (``(x, y)``, or a dict with ``labels``/``label``/``y``/``target(s)``, or
``labels=fn(batch)``); the GradScaler's loss scale under ``16-mixed``; any logged
``eval/...`` metric (e.g. ``self.log("eval/acc/t0", acc)`` in ``validation_step``) at the end
of each validation. A stop decision sets ``trainer.should_stop``; skipped steps run the
closure (forward and backward) without updating the weights. Run config: ``config=`` or the
module's ``hparams``.
"""

import logging

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # pragma: no cover - the standalone package has the same API
    from pytorch_lightning.callbacks import Callback

import torch

from .session import Session

_log = logging.getLogger("trainwatch")


def labels_from_batch(batch):
    """The labels of a typical batch: ``(x, y)`` or a dict with a labels key; else None."""
    if isinstance(batch, (tuple, list)) and len(batch) >= 2 and isinstance(batch[1], torch.Tensor):
        return batch[1]
    if isinstance(batch, dict):
        for k in ("labels", "label", "y", "targets", "target"):
            if isinstance(batch.get(k), torch.Tensor):
                return batch[k]
    return None


class TrainwatchCallback(Callback):
    def __init__(self, run=None, url=None, path=None, monitor=None, tags=None, config=None,
                 policies=None, every=None, head="auto", attention=True, labels=None,
                 shift_labels=False, logit_rows=1024, attn_rows=2):
        super().__init__()
        self._kw = dict(monitor=monitor, run=run, url=url, path=path, tags=tags, policies=policies)
        self._cap = dict(every=every, head=head, attention=attention, shift_labels=shift_labels,
                         logit_rows=logit_rows, attn_rows=attn_rows)
        self._config = config
        self._labels = labels or labels_from_batch
        self.session = None
        self._began = False
        self._last = None
        self._losses = []

    @property
    def capture(self):
        return self.session.capture

    def on_train_start(self, trainer, pl_module):
        opts = trainer.optimizers
        if len(opts) > 1:
            _log.warning("trainwatch: %d optimizers: only the first is watched", len(opts))
        opt = opts[0] if opts else None
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        config = self._config
        if config is None:
            try:
                config = dict(pl_module.hparams)
            except Exception:
                config = None
        self.session = Session(pl_module, opt, config=config, framework="lightning",
                               capture_kwargs=dict(self._cap, scaler=scaler), **self._kw)
        self.session.start(trainer.global_step, tags={"precision": str(trainer.precision)})
        self._last = trainer.global_step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.session is None:
            return
        c = self.session.capture
        if not self._began:
            c.begin(trainer.global_step + 1)
            self._began = True
            c.set_labels(self._labels(batch))
            c.arm_forward()

    def on_before_backward(self, trainer, pl_module, loss):
        if self.session is not None:
            self.session.capture.disarm_forward()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.session is None:
            return
        c = self.session.capture
        c.disarm_forward()
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):
            self._losses.append(loss.detach())
        if trainer.global_step == self._last:
            return  # gradient accumulation: the optimizer has not stepped yet
        self._last = trainer.global_step
        self._began = False
        if self._losses:
            c.observe_loss(torch.stack([x.float().reshape(()) for x in self._losses]).mean())
            self._losses = []
        decision = self.session.finish_step(trainer.global_step)
        if decision.stop is not None:
            trainer.should_stop = True

    def on_validation_end(self, trainer, pl_module):
        if self.session is None or trainer.sanity_checking:
            return
        m = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("eval/")}
        if m:
            self.session.monitor.log(trainer.global_step, m)

    def on_train_end(self, trainer, pl_module):
        self._close(trainer)

    def on_exception(self, trainer, pl_module, exception):
        self._close(trainer)

    def _close(self, trainer):
        if self.session is not None:
            self.session.close(step=trainer.global_step)
            self.session = None
