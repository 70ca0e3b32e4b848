"""The model's blocks written out with explicit positions, attention mask and an optional
key/value cache, for evaluation only (the model file stays architecture only).

Two callers need what `Transformer.forward` cannot give: the scorer's shared-prefix pass
(every choice of a question attends to one copy of its context) and generation (left-padded
rows, then one new token per step reading the cached keys and values). Both compute exactly
the model's blocks; tests/eval/test_scorer.py and test_generation.py check them against it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openeurollm.model.llama import rope_tables


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate-half RoPE with per-token positions: x (b, t, heads, hd), cos/sin (b, t, 1, hd)."""
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos.to(x.dtype) + torch.cat((-x2, x1), dim=-1) * sin.to(x.dtype)


class KVCache:
    """Per-layer keys and values (b, kv_heads, capacity, hd) after RoPE, filled left to right."""

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.length = 0

    def allocate(self, model: nn.Module, batch: int, capacity: int, like: torch.Tensor) -> None:
        att = model.layers[0].attention
        shape = (batch, att.n_kv_heads, capacity, att.hd)
        self.keys = [like.new_zeros(shape) for _ in model.layers]
        self.values = [like.new_zeros(shape) for _ in model.layers]
        self.length = 0

    def select(self, rows: torch.Tensor) -> None:
        """Keep only these batch rows (finished requests leave the batch)."""
        self.keys = [k.index_select(0, rows) for k in self.keys]
        self.values = [v.index_select(0, rows) for v in self.values]


def _grouped_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Attention for q (b, heads, t, hd) over k/v (b, kv_heads, keys, hd), heads sharing a
    key/value head in groups of rep (the model's repeat_interleave layout). The queries of a
    group are stacked as rows instead of copying the cache rep times at every step."""
    b, heads, t, hd = q.shape
    rep = heads // k.shape[1]
    if rep == 1:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    grouped = q.reshape(b, k.shape[1], rep * t, hd)
    y = F.scaled_dot_product_attention(grouped, k, v, attn_mask=mask.repeat(1, 1, rep, 1))
    return y.reshape(b, heads, t, hd)


def hidden_states_at(
    model: nn.Module,
    tokens: torch.Tensor,
    positions: torch.Tensor,
    mask: torch.Tensor,
    cache: KVCache | None = None,
) -> torch.Tensor:
    """Final-norm hidden states (b, t, dim) of `tokens` at `positions` (b, t).

    `mask` (b, 1, t, keys) says which keys each query sees; with a cache the keys are the
    cached ones followed by these tokens, and these tokens' keys/values are appended."""
    cos_t, sin_t = rope_tables(model.args, int(positions.max()) + 1, tokens.device)
    cos, sin = cos_t[positions][:, :, None, :], sin_t[positions][:, :, None, :]
    h = model.tok_embeddings(tokens)
    b, t, _ = h.shape
    start = cache.length if cache is not None else 0
    for i, layer in enumerate(model.layers):
        att = layer.attention
        x = layer.attention_norm(h)
        q = att.wq(x).view(b, t, att.n_heads, att.hd)
        k = att.wk(x).view(b, t, att.n_kv_heads, att.hd)
        v = att.wv(x).view(b, t, att.n_kv_heads, att.hd)
        if att.q_norm is not None and att.k_norm is not None:
            q, k = att.q_norm(q), att.k_norm(k)
        q, k = _rope(q, cos, sin), _rope(k, cos, sin)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        if cache is not None:
            cache.keys[i][:, :, start : start + t] = k
            cache.values[i][:, :, start : start + t] = v
            k, v = cache.keys[i][:, :, : start + t], cache.values[i][:, :, : start + t]
        y = _grouped_attention(q, k, v, mask)
        h = h + att.wo(y.transpose(1, 2).reshape(b, t, att.n_heads * att.hd))
        h = h + layer.feed_forward(layer.ffn_norm(h))
    if cache is not None:
        cache.length = start + t
    return model.norm(h)
