"""Plain PyTorch: ``watch(model, optimizer, ...)`` and one ``step()`` call per optimizer step.

    import trainwatch
    tw = trainwatch.watch(model, opt, run="my-run", url="http://127.0.0.1:8787",
                          config={"lr": 3e-4}, policies=[trainwatch.StopOnCritical()])
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # grad_norm is taken before this
        opt.step(); opt.zero_grad()
        tw.step(loss, labels=y)          # raises trainwatch.StopTraining on a stop decision
    tw.close()

Everything else (lr, grad/param norms, update ratio, output-head logit and attention
statistics, loss scale with ``scaler=``) is captured by hooks; see ``trainwatch.capture``.
"""

import logging

from .alerts import StopTraining
from .session import Session

_log = logging.getLogger("trainwatch")


class Watch:
    """The handle ``watch()`` returns; ``step()`` closes each optimizer step."""

    def __init__(self, model, optimizer, *, monitor=None, run=None, url=None, path=None, tags=None,
                 config=None, policies=None, every=None, head="auto", attention=True, scaler=None,
                 logit_rows=1024, attn_rows=2, shift_labels=False):
        self.session = Session(model, optimizer, monitor=monitor, run=run, url=url, path=path,
                               tags=tags, config=config, policies=policies, framework="torch",
                               capture_kwargs=dict(every=every, head=head, attention=attention,
                                                   scaler=scaler, logit_rows=logit_rows,
                                                   attn_rows=attn_rows, shift_labels=shift_labels))
        self.capture = self.session.capture
        self.monitor = self.session.monitor
        self.n = 0  # optimizer steps closed by step()
        self._model = model
        self._steps_at_last = 0
        self._warned_no_step = False
        self._handles = [model.register_forward_pre_hook(self._forward_pre),
                         model.register_forward_hook(self._forward_post)]
        self.session.start(0)
        self.capture.begin(1)

    def _forward_pre(self, mod, args):
        if mod.training:
            self.capture.arm_forward()
            # the optimizer stepped twice without step(): the loop never calls it
            if self.capture.stepped - self._steps_at_last >= 2 and not self._warned_no_step:
                self._warned_no_step = True
                _log.warning("trainwatch: optimizer.step() ran %d times without Watch.step(loss): "
                             "call it once per step, after optimizer.step(); nothing is logged "
                             "until then", self.capture.stepped - self._steps_at_last)

    def _forward_post(self, mod, args, output):
        self.capture.disarm_forward()

    def step(self, loss=None, labels=None, logits=None, **metrics):
        """Close the optimizer step just done: log it, apply the policies.

        ``labels`` line up with the output head's logits (for logits/zero_loss_frac and
        absorbed_frac); ``logits`` overrides what the head hook saw; extra ``metrics`` are logged
        as they are. Raises ``StopTraining`` when a policy stops the run.
        """
        self.n += 1
        self._steps_at_last = self.capture.stepped
        self.capture.observe_loss(loss)
        if labels is not None:
            self.capture.set_labels(labels)
        if logits is not None:
            self.capture.observe_logits(logits, labels)
        decision = self.session.finish_step(self.n, metrics or None)
        self.capture.begin(self.n + 1)
        if decision.stop is not None:
            raise StopTraining(decision.stop)
        return decision

    @property
    def skipping(self):
        """True while optimizer steps are being skipped (a non-finite alert is active)."""
        return self.session.policies.skipping

    @property
    def policies(self):
        return self.session.policies

    def task_start(self, task):
        """Continual learning: the next steps belong to ``task`` (a ``task_start`` event)."""
        self.monitor._task = task
        self.session.event(self.n, "task_start", task=task)

    def log(self, metrics=None, **kw):
        """Log extra metrics (e.g. ``eval/acc/<task>``) at the current step."""
        self.monitor.log(self.n, metrics, **kw)

    def close(self):
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self.session.close(step=self.n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def watch(model, optimizer=None, **kwargs):
    """Attach trainwatch to a model and optimizer; see ``Watch`` for the arguments."""
    return Watch(model, optimizer, **kwargs)
