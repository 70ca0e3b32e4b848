"""Named model flavors, from a CPU debug model to 32B. `model.overrides` in a recipe edits any field.

Shapes follow published Llama 3 / Qwen3 / EuroLLM models of the same size class. The
vocabulary size here is each flavor's nominal one; a training run replaces it with the
size of the tokenizer it trains on.
"""

from __future__ import annotations

from typing import Any

from openeurollm.model.args import ModelArgs
from openeurollm.registry import Registry

FLAVORS: Registry[ModelArgs] = Registry("model flavor")


def _add(name: str, args: ModelArgs) -> None:
    FLAVORS.register(name)(args)


# The demo model: a few million parameters, trains in minutes on 2 CPU cores.
_add(
    "debug",
    ModelArgs(
        vocab_size=8000, dim=192, n_layers=4, n_heads=6, n_kv_heads=2, ffn_dim=512,
        qk_norm=True, tie_embeddings=True, max_seq_len=2048,
    ),
)  # fmt: skip
_add(
    "125M",
    ModelArgs(
        vocab_size=32000, dim=768, n_layers=12, n_heads=12, n_kv_heads=4, ffn_dim=2560,
        tie_embeddings=True, max_seq_len=2048,
    ),
)  # fmt: skip
_add(
    "350M",
    ModelArgs(
        vocab_size=32000, dim=1024, n_layers=24, n_heads=16, n_kv_heads=8, ffn_dim=2816,
        tie_embeddings=True, max_seq_len=2048,
    ),
)  # fmt: skip
# Llama 3.2 1B / 3B shapes.
_add(
    "1B",
    ModelArgs(
        vocab_size=128256, dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, ffn_dim=8192,
        rope_theta=500_000.0, tie_embeddings=True, max_seq_len=8192,
    ),
)  # fmt: skip
_add(
    "3B",
    ModelArgs(
        vocab_size=128256, dim=3072, n_layers=28, n_heads=24, n_kv_heads=8, ffn_dim=8192,
        rope_theta=500_000.0, tie_embeddings=True, max_seq_len=8192,
    ),
)  # fmt: skip
# EuroLLM-9B shape.
_add(
    "9B",
    ModelArgs(
        vocab_size=128000, dim=4096, n_layers=42, n_heads=32, n_kv_heads=8, ffn_dim=12288,
        rope_theta=10_000.0, norm_eps=1e-5, tie_embeddings=False, max_seq_len=4096,
    ),
)  # fmt: skip
# Qwen3-32B shape: head_dim 128 with 64 query heads (wider than dim), QK-norm.
_add(
    "32B",
    ModelArgs(
        vocab_size=151936, dim=5120, n_layers=64, n_heads=64, n_kv_heads=8, ffn_dim=25600,
        head_dim=128, rope_theta=1_000_000.0, norm_eps=1e-6, qk_norm=True,
        tie_embeddings=False, max_seq_len=32768,
    ),
)  # fmt: skip


def model_args(
    flavor: str, overrides: dict[str, Any] | None = None, vocab_size: int | None = None
) -> ModelArgs:
    """The flavor's shape with recipe overrides applied, sized to the tokenizer's vocabulary."""
    args = FLAVORS.get(flavor).replace(**(overrides or {}))
    if vocab_size is not None and "vocab_size" not in (overrides or {}):
        args = args.replace(vocab_size=vocab_size)
    return args
