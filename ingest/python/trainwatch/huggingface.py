"""Hugging Face ``transformers``: ``TrainwatchCallback`` for ``Trainer``.

    from trainwatch.huggingface import TrainwatchCallback
    trainer = Trainer(model=model, args=args, train_dataset=ds,
                      callbacks=[TrainwatchCallback(run="my-run", url="http://127.0.0.1:8787")])

A hook on the model's forward takes the loss and the logits from its output and the labels
from its inputs (causal LMs: shifted, ``-100`` ignored); the output head is
``get_output_embeddings()``. Lr, norms, update ratio and attention statistics as in
``trainwatch.capture``; the loss scale from the accelerator's GradScaler under ``fp16``.
``Trainer.evaluate`` metrics are forwarded: ``eval_loss`` as ``eval/loss``, ``eval_accuracy``
as ``eval/acc``, and with a dict of eval datasets (one per task) ``eval_<task>_accuracy`` as
``eval/acc/<task>``. A stop decision sets ``control.should_training_stop``.
"""

import logging

import torch
from transformers import TrainerCallback

from .session import Session

_log = logging.getLogger("trainwatch")


def eval_metric_name(key):
    """HF evaluate() key -> trainwatch metric name (None to leave it out)."""
    if not key.startswith("eval_") or key.endswith(("_runtime", "_per_second")) or key == "epoch":
        return None
    rest = key[len("eval_"):]
    if rest in ("accuracy", "acc"):
        return "eval/acc"
    if rest == "loss":
        return "eval/loss"
    for suffix in ("_accuracy", "_acc"):
        if rest.endswith(suffix):
            return "eval/acc/" + rest[: -len(suffix)]
    return "eval/" + rest


class TrainwatchCallback(TrainerCallback):
    def __init__(self, run=None, url=None, path=None, monitor=None, tags=None, config=None,
                 policies=None, every=None, attention=True, logit_rows=1024, attn_rows=2):
        self._kw = dict(monitor=monitor, run=run, url=url, path=path, tags=tags, policies=policies)
        self._cap = dict(every=every, attention=attention, logit_rows=logit_rows, attn_rows=attn_rows)
        self._config = config
        self.session = None
        self._handles = []
        self._losses = []

    @property
    def capture(self):
        return self.session.capture

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        inner = getattr(optimizer, "optimizer", optimizer)  # accelerate's AcceleratedOptimizer
        scaler = getattr(optimizer, "scaler", None)
        head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else "auto"
        config = self._config
        if config is None:
            config = {"learning_rate": args.learning_rate, "weight_decay": args.weight_decay,
                      "max_grad_norm": args.max_grad_norm, "warmup_steps": args.warmup_steps,
                      "lr_scheduler_type": str(args.lr_scheduler_type),
                      "per_device_train_batch_size": args.per_device_train_batch_size,
                      "gradient_accumulation_steps": args.gradient_accumulation_steps,
                      "seed": args.seed}
            mc = getattr(model, "config", None)
            if mc is not None:
                for k in ("model_type", "n_layer", "num_hidden_layers", "n_embd", "hidden_size",
                          "n_head", "num_attention_heads", "vocab_size"):
                    if hasattr(mc, k):
                        config["model." + k] = getattr(mc, k)
        self.session = Session(model, inner, config=config, framework="transformers",
                               capture_kwargs=dict(self._cap, head=head, head_hook=False,
                                                   scaler=scaler, shift_labels=True), **self._kw)
        precision = "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32"
        self.session.start(state.global_step, tags={"precision": precision})
        self._handles = [model.register_forward_pre_hook(self._pre, with_kwargs=True),
                         model.register_forward_hook(self._post, with_kwargs=True)]

    def _pre(self, mod, args, kwargs):
        if mod.training and self.session is not None:
            self.session.capture.arm_forward()

    def _post(self, mod, args, kwargs, output):
        if not mod.training or self.session is None:
            return
        c = self.session.capture
        c.disarm_forward()
        loss = getattr(output, "loss", None)
        if isinstance(loss, torch.Tensor):
            self._losses.append(loss.detach())
        logits = getattr(output, "logits", None)
        if logits is not None and c._logits is None:
            c.observe_logits(logits, kwargs.get("labels"))

    def on_step_begin(self, args, state, control, **kwargs):
        if self.session is not None:
            self.session.capture.begin(state.global_step + 1)
            self._losses = []

    def on_step_end(self, args, state, control, **kwargs):
        if self.session is None:
            return
        c = self.session.capture
        if self._losses:
            c.observe_loss(torch.stack([x.float().reshape(()) for x in self._losses]).mean())
            self._losses = []
        decision = self.session.finish_step(state.global_step)
        if decision.stop is not None:
            control.should_training_stop = True

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.session is None or not metrics:
            return
        m = {}
        for k, v in metrics.items():
            name = eval_metric_name(k)
            if name is not None and isinstance(v, (int, float)):
                m[name] = v
        if m:
            self.session.monitor.log(state.global_step, m)

    def on_train_end(self, args, state, control, **kwargs):
        if self.session is not None:
            for h in self._handles:
                h.remove()
            self._handles = []
            self.session.close(step=state.global_step)
            self.session = None
