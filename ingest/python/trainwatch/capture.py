"""Automatic capture of the well-known metrics around a training step, cheaply.

``Capture`` attaches to a model and its optimizer and measures, per optimizer step:

| metric | how | when (default ``Every``) |
| --- | --- | --- |
| ``loss`` | given by the integration (Lightning outputs, HF model output, ``Watch.step(loss)``) | every step |
| ``lr`` | ``optimizer.param_groups[0]["lr"]`` (per group as ``lr/<i>`` when groups differ) | every step |
| ``grad_norm`` | fused ``torch._foreach_norm`` of all gradients at the end of backward, i.e. before any clipping (divided by the loss scale under a GradScaler) | every step |
| ``param_norm`` | fused norm of the parameters before the update | every step |
| ``loss_scale`` | the GradScaler's scale (Lightning/HF find theirs) | every step |
| ``update_ratio`` | norm of (weights before - after) / norm after; the "before" goes into one persistent buffer the size of the parameters, allocated once | every 10 steps |
| ``grad_weight_cos`` | cosine of -grad and the weights (one dot per tensor, no copies) | every 10 steps |
| ``logits/*`` | the output head's logits of the step, in their dtype, on up to ``logit_rows`` evenly strided rows | every 10 steps |
| ``logits`` sample | 4 raw rows with labels (only for heads with <= 4096 classes) | every 100 steps |
| ``attn/*`` | ``attention.AttentionCapture`` on ``attn_rows`` sequences | every 50 steps |

All values stay tensors on the device until ``end()``, which moves them to the host with one
copy: one host synchronisation per logged step, none on the steps in between.
"""

import logging
import math

import torch

from .attention import AttentionCapture

_log = logging.getLogger("trainwatch")


class Every:
    """Sampling intervals in optimizer steps (0 turns a statistic off).

    The defaults keep the overhead under 3% of a small CPU transformer's step (README,
    ``bench_overhead.py``): the per-step scalars cost ~0.5%, the rest is sampled.
    """

    def __init__(self, scalars=1, update_ratio=10, logits=10, logits_sample=100, attention=50):
        self.scalars = int(scalars)
        self.update_ratio = int(update_ratio)
        self.logits = int(logits)
        self.logits_sample = int(logits_sample)
        self.attention = int(attention)

    @classmethod
    def always(cls):
        return cls(1, 1, 1, 1, 1)

    @staticmethod
    def due(n, step):
        return n > 0 and step % n == 0


def find_head(model):
    """The output head: HF ``get_output_embeddings()``, else the last ``nn.Linear`` registered."""
    get = getattr(model, "get_output_embeddings", None)
    if callable(get):
        try:
            head = get()
            if isinstance(head, torch.nn.Module):
                return head
        except Exception:
            pass
    last = None
    for mod in model.modules():
        if isinstance(mod, torch.nn.Linear):
            last = mod
    return last


@torch.no_grad()
def logit_stat_tensors(logits, labels=None, dtype=None, rows=None, ignore_index=-100):
    """The ``logits/*`` statistics as 0-d tensors (no host sync), in the logits' dtype.

    ``logits`` [..., C], ``labels`` [...] (ints, ``ignore_index`` rows left out of the label
    statistics). ``rows`` > 0 keeps at most that many rows, evenly strided (a view, no copy).
    """
    x = logits.detach()
    x = x.reshape(-1, x.shape[-1])
    y = labels.detach().reshape(-1) if labels is not None else None
    if y is not None and y.shape[0] != x.shape[0]:
        y = None  # labels that do not line up with the logits: label-free statistics only
    if rows and x.shape[0] > rows:
        stride = -(-x.shape[0] // rows)
        x = x[::stride]
        y = y[::stride] if y is not None else None
    if dtype is not None:
        x = x.to(dtype)
    if x.shape[0] == 0:
        return {}
    out = {}
    with torch.autocast(x.device.type, enabled=False):
        x32 = x.float()
        out["logits/max_abs"] = x32.abs().amax()
        out["logits/lse_mean"] = torch.logsumexp(x32, dim=-1).mean()
        if x.shape[1] >= 2:
            top2 = torch.topk(x32, 2, dim=-1).values
            out["logits/margin_mean"] = (top2[:, 0] - top2[:, 1]).mean()
        if y is not None:
            valid = y != ignore_index
            yy = y.clamp_min(0).long()[:, None]
            logp = torch.log_softmax(x, dim=-1)  # in the training dtype: saturation depends on it
            loss = -logp.gather(1, yy).squeeze(1)
            p_true = torch.softmax(x, dim=-1).gather(1, yy).squeeze(1)
            n = valid.sum().clamp_min(1).float()
            out["logits/zero_loss_frac"] = ((loss == 0) & valid).sum().float() / n
            out["logits/absorbed_frac"] = ((p_true == 1.0) & valid).sum().float() / n
    return out


class Capture:
    """Hooks a model and optimizer; ``begin(step)`` ... ``end()`` brackets one optimizer step.

    ``step`` is the number of the optimizer step being done (1 for the first). ``end()``
    returns ``(metrics, logits_sample)`` as plain floats, with one host sync. Integrations
    call it; a plain loop uses ``trainwatch.watch`` instead.
    """

    def __init__(self, model, optimizer=None, *, every=None, head="auto", attention=True,
                 logit_rows=1024, attn_rows=2, sample_rows=4, sample_max_classes=4096, scaler=None,
                 head_hook=True, shift_labels=False):
        self.model = model
        self.optimizer = optimizer
        self.every = every or Every()
        self.logit_rows = logit_rows
        self.sample_rows = sample_rows
        self.sample_max_classes = sample_max_classes
        self.scaler = scaler
        self.shift_labels = shift_labels
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.step = 0
        self._in_step = False
        self._t = {}  # name -> 0-d tensor of this step
        self._f = {}  # name -> float of this step (no sync needed)
        self._logits = None
        self._labels = None
        self._sample = None
        self._armed_backward = False
        self._snapshot = None  # flat buffers for update_ratio, allocated on first use
        self._snap_views = None
        self._handles = []
        self._warned = set()
        self._opt_handles = []
        self.stepped = 0  # optimizer steps seen (post hook)
        for p in self.params:
            self._handles.append(p.register_post_accumulate_grad_hook(self._grad_ready))
        if optimizer is not None:
            self._attach_optimizer(optimizer)
        else:
            self._warn("noopt", "trainwatch: no optimizer given: lr, param_norm and update_ratio are "
                       "not captured (pass optimizer=)")
        self.head = find_head(model) if head == "auto" else head
        if self.head is None:
            self._warn("nohead", "trainwatch: found no output head in %s (no nn.Linear, no "
                       "get_output_embeddings()); logits/* are not captured (pass head=module)",
                       type(model).__name__)
        elif head_hook:
            self._handles.append(self.head.register_forward_hook(self._head_output))
        self.attention = AttentionCapture(model, rows=attn_rows) if attention else None

    # ---- step bracket ---------------------------------------------------------------------
    def begin(self, step):
        """Start optimizer step ``step``: decides what this step samples."""
        self.step = int(step)
        self._in_step = True
        self._t = {}
        self._f = {}
        self._logits = None
        self._sample = None
        e = self.every
        self.want_scalars = Every.due(e.scalars, self.step)
        self.want_update = Every.due(e.update_ratio, self.step) and self.optimizer is not None
        self.want_logits = self.head is not None and (Every.due(e.logits, self.step)
                                                     or Every.due(e.logits_sample, self.step))
        self.want_attention = self.attention is not None and Every.due(e.attention, self.step)

    def arm_forward(self):
        """Before the step's (first) training forward pass."""
        if self._in_step and self.want_attention:
            self.attention.arm()

    def disarm_forward(self):
        """After the forward pass (before backward)."""
        if self.attention is not None:
            self.attention.disarm()

    def set_labels(self, labels):
        self._labels = labels

    def observe_logits(self, logits, labels=None):
        """The step's output logits (the integration found them itself)."""
        if self._in_step and self.want_logits and isinstance(logits, torch.Tensor):
            self._logits = logits.detach()
            if labels is not None:
                self._labels = labels

    def observe_loss(self, loss):
        if loss is None:
            return
        if isinstance(loss, torch.Tensor):
            self._t["loss"] = loss.detach().float().reshape(())
        else:
            self._f["loss"] = float(loss)

    def end(self, extra=None):
        """Finish the step: one host sync; returns (metrics dict of floats, logits sample or None)."""
        self._in_step = False
        self.disarm_forward()
        if self._logits is not None:
            self._logit_stats()
        if self.attention is not None:
            layers = self.attention.take()
            for name, mx, ent in layers:
                self._t["attn/max_logit/" + name] = mx
                self._t["attn/entropy_min/" + name] = ent
            if layers:
                self._t["attn/max_logit"] = torch.stack([mx for _, mx, _ in layers]).amax()
                self._t["attn/entropy_min"] = torch.stack([e for _, _, e in layers]).amin()
        out = dict(self._f)
        names = list(self._t)
        sample = self._sample
        self._sample = None
        tensors = [self._t[n] for n in names]
        if sample is not None:
            tensors.extend(sample)
        host = _to_host(tensors)  # the step's one device-to-host copy
        out.update((n, float(v)) for n, v in zip(names, host[:len(names)]))
        sample = self._sample_rows(*host[len(names):]) if sample is not None else None
        scale = out.pop("_loss_scale_div", None)
        if scale and "grad_norm" in out and scale > 0:
            out["grad_norm"] = out["grad_norm"] / scale
        if extra:
            out.update(extra)
        self._logits = None
        self._labels = None
        return out, sample

    # ---- hooks ----------------------------------------------------------------------------
    def _grad_ready(self, p):
        # first gradient of this backward: run _backward_done once the whole backward is over
        if not self._armed_backward and self._in_step and self.want_scalars:
            self._armed_backward = True
            torch.autograd.Variable._execution_engine.queue_callback(self._backward_done)

    def _backward_done(self):
        self._armed_backward = False
        grads = [p.grad for p in self.params if p.grad is not None]
        if grads:  # the last backward before the step wins (gradient accumulation)
            self._t["grad_norm"] = _global_norm(grads)

    def _attach_optimizer(self, opt):
        self._opt_handles.append(opt.register_step_pre_hook(self._pre_step))
        self._opt_handles.append(opt.register_step_post_hook(self._post_step))

    @torch.no_grad()
    def _pre_step(self, opt, args, kwargs):
        if not self._in_step:
            return
        groups = opt.param_groups
        lrs = [g.get("lr") for g in groups]
        if lrs and lrs[0] is not None:
            self._put("lr", lrs[0])
            if len(set(float(v) if not isinstance(v, torch.Tensor) else id(v) for v in lrs)) > 1:
                for i, v in enumerate(lrs):
                    self._put("lr/%d" % i, v)
        if self.want_scalars:
            self._t["param_norm"] = _global_norm(self.params)
            if self.scaler is not None:
                s = _scale_tensor(self.scaler)
                if s is not None:
                    self._t["loss_scale"] = s
                    self._t["_loss_scale_div"] = s
        if self.want_update:
            self._take_snapshot()
            pairs = [(p.grad, p) for p in self.params if p.grad is not None]
            if pairs:
                # cosine of -grad and w: invariant to loss scaling and to clipping (both scale
                # the gradient uniformly), so the gradients as they are at the step will do
                gw = torch.stack([torch.vdot(g.reshape(-1), w.reshape(-1)).float() for g, w in pairs]).sum()
                gn = _global_norm([g for g, _ in pairs])
                wn = self._t.get("param_norm")
                if wn is None:
                    wn = _global_norm(self.params)
                self._t["grad_weight_cos"] = -gw / (gn * wn).clamp_min(1e-30)

    @torch.no_grad()
    def _post_step(self, opt, args, kwargs):
        self.stepped += 1
        if not self._in_step or not self.want_update or self._snap_views is None:
            return
        # the snapshot becomes before - after in place: no allocation per parameter
        torch._foreach_sub_(self._snap_views, self.params)
        d = _global_norm(self._snap_views)
        w = _global_norm(self.params)
        self._t["update_ratio"] = d / w.clamp_min(1e-30)

    def _take_snapshot(self):
        if self._snapshot is None:
            # one flat buffer per (device, dtype), allocated once, reused every sampled step
            groups = {}
            for p in self.params:
                groups.setdefault((p.device, p.dtype), []).append(p)
            self._snapshot = {}
            views = {}
            for (dev, dt), ps in groups.items():
                buf = torch.empty(sum(p.numel() for p in ps), device=dev, dtype=dt)
                self._snapshot[(dev, dt)] = buf
                off = 0
                for p in ps:
                    views[id(p)] = buf[off:off + p.numel()].view_as(p)
                    off += p.numel()
            self._snap_views = [views[id(p)] for p in self.params]
        torch._foreach_copy_(self._snap_views, self.params)

    def _head_output(self, mod, args, output):
        # the first training forward of the step (gradient accumulation: its first micro-batch)
        if self._in_step and self.want_logits and mod.training and self._logits is None \
                and isinstance(output, torch.Tensor):
            self._logits = output.detach()

    # ---- logits ---------------------------------------------------------------------------
    def _logit_stats(self):
        x, y = self._logits, self._labels
        if self.shift_labels and isinstance(y, torch.Tensor) and x.dim() == 3 and y.shape == x.shape[:2]:
            x, y = x[:, :-1], y[:, 1:]  # causal LM: position t predicts token t+1
        if not isinstance(y, torch.Tensor) or y.numel() != x.numel() // x.shape[-1]:
            self._warn("labels", "trainwatch: no labels line up with the head's logits %s; "
                       "logits/zero_loss_frac and logits/absorbed_frac are not captured (pass labels)",
                       tuple(x.shape))
            y = None
        if Every.due(self.every.logits, self.step):
            self._t.update(logit_stat_tensors(x, y, rows=self.logit_rows))
        if Every.due(self.every.logits_sample, self.step) and y is not None \
                and x.shape[-1] <= self.sample_max_classes and self.sample_rows > 0:
            n = self.sample_rows * 4  # spare rows in case some are ignore_index
            xs = x.detach().reshape(-1, x.shape[-1])[:n]
            ys = y.reshape(-1)[:n]
            name = str(xs.dtype).replace("torch.", "")
            self._sample_dtype = name if name in ("float32", "bfloat16", "float16", "float64") else "float32"
            self._sample = [xs, ys, ys != -100]

    def _sample_rows(self, xs, ys, keep):
        rows, labels = [], []
        for r, l, k in zip(xs, ys, keep):
            if k and len(rows) < self.sample_rows:
                rows.append(r)
                labels.append(int(l))
        return {"dtype": self._sample_dtype, "labels": labels, "rows": rows} if rows else None

    # ---- helpers --------------------------------------------------------------------------
    def _put(self, name, v):
        if isinstance(v, torch.Tensor):
            self._t[name] = v.detach().float().reshape(())
        else:
            self._f[name] = float(v)

    def _warn(self, kind, msg, *args):
        if kind not in self._warned:
            self._warned.add(kind)
            _log.warning(msg, *args)

    def remove(self):
        for h in self._handles + self._opt_handles:
            h.remove()
        self._handles.clear()
        self._opt_handles.clear()
        if self.attention is not None:
            self.attention.remove()


def _global_norm(tensors):
    norms = torch._foreach_norm(tensors)
    dev = norms[0].device
    return torch.linalg.vector_norm(torch.stack([n.to(dev, torch.float32) for n in norms]))


def _scale_tensor(scaler):
    try:
        if not scaler.is_enabled():
            return None
    except Exception:
        return None
    s = getattr(scaler, "_scale", None)
    if isinstance(s, torch.Tensor):
        return s.detach().float().reshape(())
    return None


def _to_host(tensors):
    """All the step's values in one device-to-host copy (one sync on an accelerator).

    0-d tensors come back as floats, others as nested lists (float64 holds every float32,
    bfloat16 and float16 value exactly, and integer labels below 2^53).
    """
    if not tensors:
        return []
    dev = tensors[0].device
    flat = torch.cat([t.detach().reshape(-1).to(dev, torch.float64) for t in tensors]).cpu().tolist()
    out, off = [], 0
    for t in tensors:
        n = t.numel()
        if t.dim() == 0:
            out.append(flat[off])
        elif t.dim() == 1:
            out.append(flat[off:off + n])
        else:
            w = t.shape[-1]
            out.append([flat[off + i:off + i + w] for i in range(0, n, w)])
        off += n
    return out
