"""A Llama/Qwen3-style decoder: RMSNorm, SwiGLU, RoPE, grouped-query attention, optional QK-norm
and tied embeddings. Architecture only: parallelism, compilation, activation checkpointing and
checkpoint formats are applied from outside (openeurollm.train.parallel)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from openeurollm.model.args import ModelArgs


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # In fp32 whatever the activation dtype: the mean of squares is where bf16 hurts.
        return F.rms_norm(x.float(), (x.shape[-1],), self.weight.float(), self.eps).type_as(x)

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)


def rope_tables(
    args: ModelArgs, seq_len: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin of shape (seq_len, head_dim), computed per forward: no buffers, so the model can
    be built on the meta device and sharded without a re-initialisation step for them."""
    half = args.hd // 2
    inv_freq = 1.0 / (
        args.rope_theta ** (torch.arange(0, half, device=device, dtype=torch.float32) / half)
    )
    angles = torch.outer(torch.arange(seq_len, device=device, dtype=torch.float32), inv_freq)
    angles = torch.cat((angles, angles), dim=-1)
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate-half RoPE on (batch, seq, heads, head_dim), the layout Hugging Face Llama/Qwen3
    use, so exported weights need no permutation."""
    x1, x2 = x.chunk(2, dim=-1)
    rotated = torch.cat((-x2, x1), dim=-1)
    cos, sin = cos[:, None, :].to(x.dtype), sin[:, None, :].to(x.dtype)
    return x * cos + rotated * sin


class Attention(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads, self.hd = args.n_heads, args.n_kv_heads, args.hd
        self.wq = nn.Linear(args.dim, args.n_heads * args.hd, bias=False)
        self.wk = nn.Linear(args.dim, args.n_kv_heads * args.hd, bias=False)
        self.wv = nn.Linear(args.dim, args.n_kv_heads * args.hd, bias=False)
        self.wo = nn.Linear(args.n_heads * args.hd, args.dim, bias=False)
        self.q_norm = RMSNorm(args.hd, args.norm_eps) if args.qk_norm else None
        self.k_norm = RMSNorm(args.hd, args.norm_eps) if args.qk_norm else None

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.wq(x).view(b, t, self.n_heads, self.hd)
        k = self.wk(x).view(b, t, self.n_kv_heads, self.hd)
        v = self.wv(x).view(b, t, self.n_kv_heads, self.hd)
        if self.q_norm is not None and self.k_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        if self.n_kv_heads != self.n_heads:
            # Explicit repeat instead of enable_gqa: every SDPA backend (CPU flash included)
            # takes equal head counts.
            rep = self.n_heads // self.n_kv_heads
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(y.transpose(1, 2).reshape(b, t, self.n_heads * self.hd))


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x)."""

    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.w1 = nn.Linear(args.dim, args.ffn_dim, bias=False)
        self.w2 = nn.Linear(args.ffn_dim, args.dim, bias=False)
        self.w3 = nn.Linear(args.dim, args.ffn_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.attention_norm = RMSNorm(args.dim, args.norm_eps)
        self.attention = Attention(args)
        self.ffn_norm = RMSNorm(args.dim, args.norm_eps)
        self.feed_forward = FeedForward(args)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.attention_norm(x), cos, sin)
        return x + self.feed_forward(self.ffn_norm(x))


class Transformer(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.args = args
        self.tok_embeddings = nn.Embedding(args.vocab_size, args.dim)
        self.layers = nn.ModuleList(TransformerBlock(args) for _ in range(args.n_layers))
        self.norm = RMSNorm(args.dim, args.norm_eps)
        # Tied: the head reads the embedding table, so no second (shared) tensor exists
        # for state dicts, safetensors or sharding to special-case.
        self.output = (
            None if args.tie_embeddings else nn.Linear(args.dim, args.vocab_size, bias=False)
        )
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """Normal(0, init_std); residual output projections scaled by 1/sqrt(2 x layers)."""
        std = self.args.init_std
        out_std = std / math.sqrt(2 * self.args.n_layers)
        nn.init.normal_(self.tok_embeddings.weight, std=std)
        for layer in self.layers:
            for lin in (layer.attention.wq, layer.attention.wk, layer.attention.wv):
                nn.init.normal_(lin.weight, std=std)
            nn.init.normal_(layer.feed_forward.w1.weight, std=std)
            nn.init.normal_(layer.feed_forward.w3.weight, std=std)
            nn.init.normal_(layer.attention.wo.weight, std=out_std)
            nn.init.normal_(layer.feed_forward.w2.weight, std=out_std)
        for module in self.modules():
            if isinstance(module, RMSNorm):
                module.reset_parameters()
        if self.output is not None:
            nn.init.normal_(self.output.weight, std=std)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, seq) -> logits (batch, seq, vocab)."""
        h = self.tok_embeddings(tokens)
        cos, sin = rope_tables(self.args, tokens.shape[1], tokens.device)
        for layer in self.layers:
            h = layer(h, cos, sin)
        h = self.norm(h)
        if self.output is None:
            return F.linear(h, self.tok_embeddings.weight)
        return self.output(h)
