"""Model shapes and the closed-form parameter and FLOP counts (no torch: the CLI imports this)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelArgs:
    """The dimensions of a Llama/Qwen3-style decoder. Everything the architecture needs."""

    vocab_size: int = 8000
    dim: int = 192
    n_layers: int = 4
    n_heads: int = 6
    n_kv_heads: int = 2
    ffn_dim: int = 512
    head_dim: int | None = None  # None: dim // n_heads (Qwen3-32B decouples the two)
    rope_theta: float = 10_000.0
    norm_eps: float = 1e-5
    qk_norm: bool = False
    tie_embeddings: bool = True
    max_seq_len: int = 4096
    init_std: float = 0.02

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            ok = {
                "int": isinstance(value, int) and not isinstance(value, bool),
                "int | None": value is None or (isinstance(value, int) and value is not True),
                "float": isinstance(value, (int, float)) and not isinstance(value, bool),
                "bool": isinstance(value, bool),
            }[str(f.type)]
            if not ok:
                raise ValueError(f"model.{f.name} must be {f.type}, got {value!r}")
        for name in ("vocab_size", "dim", "n_layers", "n_heads", "n_kv_heads", "ffn_dim"):
            if getattr(self, name) <= 0:
                raise ValueError(f"model.{name} must be positive, got {getattr(self, name)}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"model.n_heads ({self.n_heads}) must be a multiple of "
                f"model.n_kv_heads ({self.n_kv_heads})"
            )
        if self.head_dim is None and self.dim % self.n_heads:
            raise ValueError(
                f"model.dim ({self.dim}) must be divisible by model.n_heads ({self.n_heads}) "
                "unless model.head_dim is set"
            )
        if self.hd % 2:
            raise ValueError(f"the head dimension must be even for RoPE, got {self.hd}")

    @property
    def hd(self) -> int:
        """The per-head dimension."""
        return self.head_dim if self.head_dim is not None else self.dim // self.n_heads

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def replace(self, **changes: Any) -> ModelArgs:
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise ValueError(
                f"unknown model field(s) {', '.join(unknown)} "
                f"(allowed: {', '.join(self.field_names())})"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelArgs:
        return cls().replace(**data)


def _layer_matmul_params(a: ModelArgs) -> int:
    q_out, kv_out = a.n_heads * a.hd, a.n_kv_heads * a.hd
    attention = a.dim * q_out + 2 * a.dim * kv_out + q_out * a.dim  # wq, wk, wv, wo
    mlp = 3 * a.dim * a.ffn_dim  # SwiGLU: gate, up, down
    return attention + mlp


def layer_params(a: ModelArgs) -> int:
    """Parameters of one transformer block (no biases anywhere)."""
    qk_norm = 2 * a.hd if a.qk_norm else 0
    return _layer_matmul_params(a) + qk_norm + 2 * a.dim


def num_params(a: ModelArgs, embeddings: bool = True) -> int:
    """Closed-form parameter count. `embeddings=False`: without the input embedding table
    (the output head counts as non-embedding when it is a separate matrix)."""
    body = a.n_layers * layer_params(a) + a.dim  # + final norm
    head = 0 if a.tie_embeddings else a.vocab_size * a.dim
    return body + head + (a.vocab_size * a.dim if embeddings else 0)


def flops_per_token(a: ModelArgs, seq_len: int) -> int:
    """Training FLOPs per token: 6 x (matmul parameters, the output head included) plus the
    attention scores and weighted sum, 12 x layers x heads x head_dim x seq_len (the PaLM
    convention; causal masking is not subtracted, so MFU is comparable across codebases)."""
    matmul_params = a.n_layers * _layer_matmul_params(a) + a.vocab_size * a.dim
    attention = 12 * a.n_layers * a.n_heads * a.hd * seq_len
    return 6 * matmul_params + attention
