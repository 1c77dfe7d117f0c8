"""Attention logit and entropy statistics from the query/key of each attention call.

Three ways in, so that modern attention is seen without user code:

- ``torch.nn.functional.scaled_dot_product_attention`` (nanoGPT-style code, Hugging Face
  models with the ``sdpa`` implementation, ``nn.MultiheadAttention`` with
  ``need_weights=False`` as ``nn.TransformerEncoderLayer`` calls it) is wrapped while a sampled
  forward pass runs, and only then: it sees q and k exactly as the attention does (after RoPE,
  with the mask, ``is_causal`` and ``scale`` it was given).
- Hugging Face GPT-2 attention (``GPT2Attention``, any implementation, eager included) is
  hooked: q and k are recomputed from ``c_attn`` on the sampled sub-batch, with GPT-2's causal
  mask, its padding mask and its scaling (``scale_attn_weights``, ``scale_attn_by_inverse_layer_idx``).
- ``nn.MultiheadAttention`` called with ``need_weights=True`` (its default; that path does not
  use SDPA) is hooked and recomputed from ``in_proj_weight``, honouring ``attn_mask``
  (bool: True = masked; float: added), ``key_padding_mask`` and ``is_causal``.

Only ``rows`` sequences of the batch (default 2) are used: attention statistics of a couple of
sequences track the whole batch's closely, and the cost is rows/batch of the attention itself.
Layers are named by call order within one forward pass (``0``, ``1``, ...), as FORMAT.md's
``attn/max_logit/<layer>``. Everything stays on the device as tensors; the caller syncs once.
"""

import logging
import math
import threading

import torch
import torch.nn.functional as F

_log = logging.getLogger("trainwatch")
_SDPA = F.scaled_dot_product_attention  # the original, whatever wraps it later


class AttentionCapture:
    """Collects per-layer (max pre-softmax logit, min over heads of mean entropy) tensors.

    ``arm()`` before a sampled forward pass, ``disarm()`` after it; ``take()`` returns the
    ``[(layer, max_logit, entropy_min), ...]`` of that pass (0-d float32 tensors) and resets.
    """

    def __init__(self, model, rows=2):
        self.rows = max(1, int(rows))
        self._results = []
        self._armed = False
        self._thread = None
        self._inside = 0  # > 0 while a hooked module runs: its own SDPA call is not counted twice
        self._owned = []  # per hooked call in progress: whether it computed the statistics itself
        self._handles = []
        self._hooked = 0
        self._passes = 0
        self._warned = False
        self.model_name = type(model).__name__ if model is not None else "model"
        if model is not None:
            for mod in model.modules():
                if _is_gpt2_attention(mod):
                    self._hook(mod, self._gpt2)
                elif isinstance(mod, torch.nn.MultiheadAttention):
                    self._hook(mod, self._mha)

    # ---- arming ---------------------------------------------------------------------------
    def arm(self):
        if self._armed:
            return
        self._armed = True
        self._thread = threading.get_ident()
        self._results = []
        F.scaled_dot_product_attention = self._sdpa

    def disarm(self):
        if not self._armed:
            return
        self._armed = False
        F.scaled_dot_product_attention = _SDPA
        self._passes += 1
        if not self._results and not self._warned and self._passes >= 1:
            self._warned = True
            _log.warning("trainwatch: attention statistics: %s computed no attention this pass that "
                         "trainwatch can see (no scaled_dot_product_attention call, no GPT-2 "
                         "attention, no nn.MultiheadAttention); attn/* metrics are off for it. "
                         "Report custom scores with AttentionStats.observe(layer, scores)",
                         self.model_name)

    def take(self):
        out, self._results = self._results, []
        return out

    def remove(self):
        self.disarm()
        for h in self._handles:
            h.remove()
        self._handles.clear()

    @property
    def hooked_modules(self):
        return self._hooked

    # ---- the three ways in ---------------------------------------------------------------
    def _hook(self, mod, compute):
        def pre(m, args, kwargs):
            if self._armed and threading.get_ident() == self._thread:
                try:
                    owned = compute(m, args, kwargs) is not False
                except Exception as e:  # statistics must never break training
                    owned = True
                    self._fail(e)
                self._owned.append(owned)
                self._inside += owned

        def post(m, args, kwargs, output):
            if self._armed and threading.get_ident() == self._thread and self._owned:
                self._inside -= self._owned.pop()
        self._handles.append(mod.register_forward_pre_hook(pre, with_kwargs=True))
        self._handles.append(mod.register_forward_hook(post, with_kwargs=True))
        self._hooked += 1

    def _sdpa(self, query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
              enable_gqa=False, **kw):
        if self._armed and not self._inside and threading.get_ident() == self._thread:
            try:
                self._record_sdpa(query, key, attn_mask, is_causal, scale)
            except Exception as e:
                self._fail(e)
        return _SDPA(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal,
                     scale=scale, enable_gqa=enable_gqa, **kw)

    @torch.no_grad()
    def _record_sdpa(self, q, k, attn_mask, is_causal, scale):
        r = self.rows
        q, k = q[:r], k[:r]  # [b, H, L, E]; sub-batch on the batch axis
        if q.dim() == 3:  # [H, L, E] without batch: one sequence
            q, k = q[None], k[None]
        if k.shape[-3] != q.shape[-3]:  # grouped-query attention: share each key head
            k = k.repeat_interleave(q.shape[-3] // k.shape[-3], dim=-3)
        e = q.shape[-1]
        s = _scores(q, k, scale if scale is not None else 1.0 / math.sqrt(e))
        allowed = None
        if attn_mask is not None:
            m = attn_mask[:r] if attn_mask.dim() == 4 and attn_mask.shape[0] > 1 else attn_mask
            if m.dtype == torch.bool:
                allowed = m  # SDPA: True takes part in attention
            else:
                allowed, s = _additive(m, s)
        if is_causal:
            c = _causal(s.shape[-2], s.shape[-1], s.device)
            allowed = c if allowed is None else (allowed & c)
        self._add(s, allowed)

    @torch.no_grad()
    def _gpt2(self, mod, args, kwargs):
        h = args[0] if args else kwargs.get("hidden_states")
        if h is None or kwargs.get("encoder_hidden_states") is not None:
            return  # cross-attention: not the causal self-attention this reports
        h = h[: self.rows]
        qkv = mod.c_attn(h)
        q, k, _ = qkv.split(mod.split_size, dim=2)
        b, t = q.shape[0], q.shape[1]
        q = q.view(b, t, -1, mod.head_dim).transpose(1, 2)
        k = k.view(b, t, -1, mod.head_dim).transpose(1, 2)
        scaling = getattr(mod, "scaling", None)
        if scaling is None:  # older transformers
            scaling = 1.0 / math.sqrt(mod.head_dim) if mod.scale_attn_weights else 1.0
            if mod.scale_attn_by_inverse_layer_idx:
                scaling /= float(mod.layer_idx + 1)
        s = _scores(q, k, scaling)
        allowed = _causal(t, t, s.device)
        am = kwargs.get("attention_mask")
        if am is None and len(args) > 2:
            am = args[2]
        if isinstance(am, torch.Tensor) and am.dim() == 4:
            am = am[: self.rows] if am.shape[0] > 1 else am
            if am.dtype == torch.bool:
                allowed = allowed & am
            else:
                a2, s = _additive(am, s)
                allowed = allowed & a2
        self._add(s, allowed)

    @torch.no_grad()
    def _mha(self, mod, args, kwargs):
        need_weights = kwargs.get("need_weights", args[4] if len(args) > 4 else True)
        if not need_weights:
            # this call goes through scaled_dot_product_attention: count it there, with the
            # mask exactly as MHA merged it
            return False
        query = args[0] if args else kwargs.get("query")
        key = args[1] if len(args) > 1 else kwargs.get("key")
        kpm = kwargs.get("key_padding_mask", args[3] if len(args) > 3 else None)
        attn_mask = kwargs.get("attn_mask", args[5] if len(args) > 5 else None)
        is_causal = kwargs.get("is_causal", args[7] if len(args) > 7 else False)
        batched = query.dim() == 3
        if batched and not mod.batch_first:
            query, key = query.transpose(0, 1), key.transpose(0, 1)
        if not batched:
            query, key = query[None], key[None]
            kpm = kpm[None] if kpm is not None else None
        query, key = query[: self.rows], key[: self.rows]
        e, heads = mod.embed_dim, mod.num_heads
        if mod.in_proj_weight is not None:
            wq, wk = mod.in_proj_weight[:e], mod.in_proj_weight[e:2 * e]
        else:
            wq, wk = mod.q_proj_weight, mod.k_proj_weight
        bq = bk = None
        if mod.in_proj_bias is not None:
            bq, bk = mod.in_proj_bias[:e], mod.in_proj_bias[e:2 * e]
        q = F.linear(query, wq, bq)
        k = F.linear(key, wk, bk)
        b, lq, lk, d = q.shape[0], q.shape[1], k.shape[1], e // heads
        q = q.reshape(b, lq, heads, d).transpose(1, 2)
        k = k.reshape(b, lk, heads, d).transpose(1, 2)
        s = _scores(q, k, 1.0 / math.sqrt(d))
        allowed = torch.ones(1, 1, lq, lk, dtype=torch.bool, device=s.device)
        if attn_mask is not None:
            m = attn_mask
            if m.dim() == 3:  # [batch * heads, L, S]
                m = m.reshape(-1, heads, lq, lk)[: self.rows]
            if m.dtype == torch.bool:
                allowed = allowed & ~m  # MHA: True is masked out
            else:
                a2, s = _additive(m, s)
                allowed = allowed & a2
        elif is_causal:
            allowed = allowed & _causal(lq, lk, s.device)
        if kpm is not None:
            kpm = kpm[: self.rows]
            if kpm.dtype == torch.bool:
                allowed = allowed & ~kpm[:, None, None, :]
            else:
                a2, s = _additive(kpm[:, None, None, :], s)
                allowed = allowed & a2
        self._add(s, allowed)

    # ---- the statistics ------------------------------------------------------------------
    def _add(self, s, allowed):
        mx, ent = scores_stats(s, allowed)
        self._results.append((str(len(self._results)), mx, ent))

    def _fail(self, e):
        if not self._warned:
            self._warned = True
            _log.warning("trainwatch: attention statistics failed (%r); attn/* metrics are off", e)


def _is_gpt2_attention(mod):
    return hasattr(mod, "c_attn") and hasattr(mod, "split_size") and hasattr(mod, "head_dim") \
        and not getattr(mod, "is_cross_attention", False) and type(mod).__name__.endswith("Attention")


def _scores(q, k, scale):
    with torch.autocast(q.device.type, enabled=False):
        return (q.float() @ k.float().transpose(-2, -1)) * float(scale)


def _causal(lq, lk, device):
    # query i sees keys j <= i + (lk - lq) (the offset matters with a cache; 0 in training)
    return torch.ones(lq, lk, dtype=torch.bool, device=device).tril(lk - lq)


def _additive(mask, s):
    """(allowed, s + mask) for an additive float mask: -inf or the dtype's minimum masks out."""
    m = mask.float()
    limit = torch.finfo(mask.dtype).min / 2 if mask.dtype.is_floating_point else -1e30
    return m > limit, s + m.clamp_min(-1e30)


def scores_stats(s, allowed=None):
    """(max logit over allowed positions, min over heads of the mean attention entropy), 0-d tensors.

    ``s`` is [batch, heads, queries, keys] (or with fewer leading axes) of pre-softmax scores;
    ``allowed`` a broadcastable bool mask (True = attends). Entropy in nats; a query with no
    allowed key is left out.
    """
    with torch.autocast(s.device.type, enabled=False):
        s = s.float()
        if allowed is not None:
            s = s.masked_fill(~allowed, float("-inf"))
        finite = torch.isfinite(s)
        mx = s.masked_fill(~finite, float("-inf")).amax()
        logp = torch.log_softmax(s, dim=-1)
        p = logp.exp()
        ent = -(p * logp.masked_fill(~finite, 0.0)).sum(-1)  # [..., queries]
        valid = finite.any(-1)  # same shape as ent: s has its full shape after masked_fill
        ent = ent.masked_fill(~valid, 0.0)
        if ent.dim() >= 3:  # [batch, heads, queries] -> mean per head
            ent = ent.reshape(-1, ent.shape[-2], ent.shape[-1])
            valid = valid.reshape(ent.shape)
            per_head = ent.sum(dim=(0, 2)) / valid.sum(dim=(0, 2)).clamp_min(1)
        else:
            per_head = (ent.sum() / valid.sum().clamp_min(1)).reshape(1)
        return mx, per_head.min()
