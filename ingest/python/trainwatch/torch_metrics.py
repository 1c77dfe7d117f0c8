"""The well-known trainwatch metrics (FORMAT.md) computed from PyTorch tensors.

Everything returns plain ``{name: float}`` dicts ready for ``Monitor.log(step, d)``.
Logit statistics are computed in the dtype the training uses (``logits.dtype``): whether
a per-sample loss is exactly 0, or a softmax probability exactly 1.0, depends on it, and
that is what softmax-collapse detection looks at. Requires torch; import it only when
torch is installed.

    from trainwatch.torch_metrics import logit_stats, grad_param_stats, AttentionStats
    stats = logit_stats(logits.detach(), targets)
    stats.update(grad_param_stats(model))          # after backward(), before step()
"""

import math

import torch

__all__ = ["logit_stats", "logits_sample", "grad_param_stats", "UpdateRatio", "AttentionStats"]


@torch.no_grad()
def logit_stats(logits, labels, dtype=None):
    """logits/max_abs, margin_mean, lse_mean, zero_loss_frac, absorbed_frac of a [N, C] batch.

    ``dtype`` overrides the training dtype (default: ``logits.dtype``). Fractions are
    exact-equality tests done in that dtype; margins and log Z are reported in float64.
    """
    x = logits.detach().reshape(-1, logits.shape[-1])
    y = labels.detach().reshape(-1).long()
    if dtype is not None:
        x = x.to(dtype)
    n = x.shape[0]
    if n == 0:
        return {}
    logp = torch.log_softmax(x, dim=-1)  # stays in the training dtype
    loss = -logp.gather(1, y[:, None]).squeeze(1)
    p_true = torch.softmax(x, dim=-1).gather(1, y[:, None]).squeeze(1)
    x64 = x.double()
    out = {
        "logits/max_abs": float(x64.abs().max()),
        "logits/lse_mean": float(torch.logsumexp(x64, dim=-1).mean()),
        "logits/zero_loss_frac": float((loss == 0).double().mean()),
        "logits/absorbed_frac": float((p_true == 1.0).double().mean()),
    }
    if x.shape[1] >= 2:
        top2 = torch.topk(x64, 2, dim=-1).values
        out["logits/margin_mean"] = float((top2[:, 0] - top2[:, 1]).mean())
    return out


@torch.no_grad()
def logits_sample(logits, labels, rows=4):
    """A few raw logit rows with their labels (FORMAT.md "logits"), for ``Monitor.log(logits=...)``."""
    x = logits.detach().reshape(-1, logits.shape[-1])[:rows]
    y = labels.detach().reshape(-1)[:rows]
    name = str(x.dtype).replace("torch.", "")
    if name not in ("float32", "bfloat16", "float16", "float64"):
        name = "float32"
    # float(x) of a low-precision value reads back to the same value of that dtype
    return {"dtype": name, "labels": [int(v) for v in y.tolist()],
            "rows": [[float(v) for v in r] for r in x.double().tolist()]}


def _params(model_or_params):
    if isinstance(model_or_params, torch.nn.Module):
        return [p for p in model_or_params.parameters() if p.requires_grad]
    return [p for p in model_or_params]


@torch.no_grad()
def grad_param_stats(model_or_params):
    """grad_norm, param_norm and grad_weight_cos (cosine of -grad and the weights).

    Call after ``backward()`` and before ``optimizer.step()``; ``grad_norm`` is before
    clipping if called before ``clip_grad_norm_``. Accumulates in float64.
    """
    g2 = w2 = gw = 0.0
    has_grad = False
    for p in _params(model_or_params):
        w = p.detach().double()
        w2 += float((w * w).sum())
        if p.grad is not None:
            g = p.grad.detach().double()
            has_grad = True
            g2 += float((g * g).sum())
            gw += float((g * w).sum())
    out = {"param_norm": math.sqrt(w2)}
    if has_grad:
        out["grad_norm"] = math.sqrt(g2)
        if g2 > 0 and w2 > 0:
            out["grad_weight_cos"] = -gw / (math.sqrt(g2) * math.sqrt(w2))
    return out


class UpdateRatio:
    """update_ratio = ||w_after - w_before|| / ||w_after||: ``before()`` then ``after()`` around step()."""

    def __init__(self, model_or_params):
        self._params = _params(model_or_params)
        self._before = None

    @torch.no_grad()
    def before(self):
        self._before = [p.detach().clone() for p in self._params]

    @torch.no_grad()
    def after(self):
        if self._before is None:
            return {}
        d2 = w2 = 0.0
        for p, b in zip(self._params, self._before):
            w = p.detach().double()
            d2 += float(((w - b.double()) ** 2).sum())
            w2 += float((w * w).sum())
        self._before = None
        return {"update_ratio": math.sqrt(d2) / math.sqrt(w2)} if w2 > 0 else {}


class AttentionStats:
    """attn/max_logit (overall and per layer) and attn/entropy_min via forward hooks.

    ``AttentionStats(model)`` hooks every ``nn.MultiheadAttention`` and recomputes its
    pre-softmax logits q.k/sqrt(d) from the layer's inputs and projection weights. For a
    custom attention, call ``observe(layer_name, scores)`` with the pre-softmax scores
    [..., queries, keys] yourself. ``collect()`` returns the metrics of the forward passes
    since the last call and resets. ``every`` > 1 computes only on every n-th pass.
    """

    def __init__(self, model=None, every=1):
        self._handles = []
        self._max = {}
        self._entropy = {}
        self._every = max(1, int(every))
        self._calls = 0
        if model is not None:
            for name, mod in model.named_modules():
                if isinstance(mod, torch.nn.MultiheadAttention):
                    self._handles.append(_forward_hook(mod, self._hook(name or "attn")))

    def _hook(self, name):
        def hook(mod, args, kwargs, output=None):
            self._calls += 1
            if self._calls % self._every:
                return
            q = args[0] if len(args) > 0 else kwargs.get("query")
            k = args[1] if len(args) > 1 else kwargs.get("key")
            kpm = kwargs.get("key_padding_mask", args[3] if len(args) > 3 else None)
            mask = kwargs.get("attn_mask", args[5] if len(args) > 5 else None)
            is_causal = kwargs.get("is_causal", args[7] if len(args) > 7 else False)
            scores = _mha_scores(mod, q, k)
            lq, lk = scores.shape[-2], scores.shape[-1]
            if mask is not None and mask.dim() == 3:  # [batch * heads, L, S]
                mask = mask.reshape(-1, mod.num_heads, lq, lk)
            if mask is None and is_causal:
                mask = torch.ones(lq, lk, dtype=torch.bool, device=scores.device).triu(1)
            if kpm is not None:
                if not mod.batch_first and q.dim() == 3 and kpm.shape[0] != scores.shape[0]:
                    kpm = kpm.transpose(0, 1)
                kpm = kpm.reshape(scores.shape[0], 1, 1, lk)
                kpm = kpm if kpm.dtype == torch.bool else kpm == float("-inf")
                if mask is None:
                    mask = kpm
                elif mask.dtype == torch.bool:
                    mask = mask | kpm
                else:
                    mask = mask.masked_fill(kpm, float("-inf"))
            self.observe(name, scores, mask)
        return hook

    @torch.no_grad()
    def observe(self, layer, scores, mask=None):
        """Records pre-softmax attention scores [..., queries, keys] of one layer."""
        s = scores.detach()
        if mask is not None:
            s = s.masked_fill(mask.bool(), float("-inf")) if mask.dtype == torch.bool else s + mask
        finite = s[torch.isfinite(s)]
        if finite.numel():
            self._max[layer] = max(self._max.get(layer, -math.inf), float(finite.max()))
        p = torch.softmax(s.double(), dim=-1)
        ent = -(p * torch.log(p.clamp_min(1e-300))).sum(-1)  # per query
        # mean over batch and queries, per head when there is a head axis
        per_head = ent.reshape(-1, ent.shape[-2], ent.shape[-1]).mean(dim=(0, 2)) if ent.dim() >= 3 \
            else ent.mean().reshape(1)
        self._entropy[layer] = min(self._entropy.get(layer, math.inf), float(per_head.min()))

    def collect(self):
        out = {}
        if self._max:
            out["attn/max_logit"] = max(self._max.values())
            for layer, v in self._max.items():
                out["attn/max_logit/" + layer] = v
        if self._entropy:
            out["attn/entropy_min"] = min(self._entropy.values())
        self._max.clear()
        self._entropy.clear()
        return out

    def remove(self):
        for h in self._handles:
            h.remove()
        self._handles.clear()


_warned_kwargs = []


def _forward_hook(mod, hook):
    """A forward hook that also sees keyword arguments where torch supports it (>= 2.0)."""
    try:
        return mod.register_forward_hook(hook, with_kwargs=True)
    except TypeError:  # torch 1.x: positional arguments only
        if not _warned_kwargs:
            _warned_kwargs.append(True)
            import logging
            logging.getLogger("trainwatch").warning(
                "trainwatch: torch %s cannot show forward hooks keyword arguments: an attn_mask or "
                "is_causal passed by keyword (nn.TransformerEncoderLayer does) is not seen and the "
                "attention statistics ignore it; use torch >= 2.0", torch.__version__)
        return mod.register_forward_hook(lambda m, args, output: hook(m, args, {}, output))


@torch.no_grad()
def _mha_scores(mod, query, key):
    """Pre-softmax scores [batch, heads, queries, keys] of an nn.MultiheadAttention call."""
    if not mod.batch_first and query.dim() == 3:
        query, key = query.transpose(0, 1), key.transpose(0, 1)
    if query.dim() == 2:
        query, key = query[None], key[None]
    e, h = mod.embed_dim, mod.num_heads
    if mod.in_proj_weight is not None:
        wq, wk = mod.in_proj_weight[:e], mod.in_proj_weight[e:2 * e]
    else:
        wq, wk = mod.q_proj_weight, mod.k_proj_weight
    bq = bk = None
    if mod.in_proj_bias is not None:
        bq, bk = mod.in_proj_bias[:e], mod.in_proj_bias[e:2 * e]
    q = torch.nn.functional.linear(query, wq, bq)
    k = torch.nn.functional.linear(key, wk, bk)
    b, lq, lk, d = q.shape[0], q.shape[1], k.shape[1], e // h
    q = q.reshape(b, lq, h, d).transpose(1, 2)
    k = k.reshape(b, lk, h, d).transpose(1, 2)
    return (q @ k.transpose(-2, -1)) / math.sqrt(d)
