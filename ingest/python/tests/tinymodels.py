"""Tiny models built from local code and configs (no download), for the framework tests."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class SdpaBlock(nn.Module):
    """nanoGPT-style causal self-attention through F.scaled_dot_product_attention."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def qk(self, x):
        b, t, d = x.shape
        q, k, _ = self.qkv(self.ln1(x)).split(d, dim=2)
        return (q.view(b, t, self.heads, -1).transpose(1, 2), k.view(b, t, self.heads, -1).transpose(1, 2))

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    """Pre-LN causal LM; ``TinyLM(vocab=64, d=32, heads=2, layers=2)``."""

    def __init__(self, vocab=64, d=32, heads=2, layers=2, ctx=32):
        super().__init__()
        self.vocab = vocab
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList([SdpaBlock(d, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def hidden(self, idx):
        """The input of every block (for direct attention computations in tests)."""
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        out = []
        for b in self.blocks:
            out.append(x)
            x = b(x)
        return out

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln(x))


class EncoderLM(nn.Module):
    """nn.TransformerEncoderLayer with a causal mask (the case the old hook got wrong)."""

    def __init__(self, vocab=64, d=32, heads=2, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True,
                                                                norm_first=True) for _ in range(layers)])
        self.head = nn.Linear(d, vocab)

    def forward(self, idx, return_hidden=False):
        t = idx.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        x = self.tok(idx)
        hidden = []
        for layer in self.layers:
            hidden.append(x)
            x = layer(x, src_mask=mask, is_causal=True)
        return (self.head(x), hidden) if return_hidden else self.head(x)


def gpt2(n_layer=2, n_embd=32, n_head=2, vocab=64, ctx=32, attn="sdpa"):
    """A 2-layer GPT-2 from a local config (transformers, no download)."""
    from transformers import GPT2Config, GPT2LMHeadModel
    cfg = GPT2Config(n_layer=n_layer, n_embd=n_embd, n_head=n_head, vocab_size=vocab, n_positions=ctx,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    cfg._attn_implementation = attn
    return GPT2LMHeadModel(cfg)


def direct_attention(q, k, causal=True, scale=None):
    """Reference: (max allowed logit, min over heads of mean entropy) in float64, q/k [b, H, T, E]."""
    q, k = q.double(), k.double()
    e = q.shape[-1]
    s = (q @ k.transpose(-2, -1)) * (scale if scale is not None else e ** -0.5)
    t = s.shape[-1]
    if causal:
        allowed = torch.ones(t, t, dtype=torch.bool).tril()
        s = s.masked_fill(~allowed, float("-inf"))
    mx = s[torch.isfinite(s)].max()
    p = torch.softmax(s, dim=-1)
    ent = -(p * torch.log(p.clamp_min(1e-300))).sum(-1)  # [b, H, T]
    return float(mx), float(ent.mean(dim=(0, 2)).min())
