"""Our model shape <-> Megatron-LM's command-line model arguments (`pretrain_gpt.py` flags).

The flags written are those that make Megatron-Core build the same network as
`model.llama.Transformer`: RMSNorm, SwiGLU, rotate-half RoPE over the whole head, grouped-query
attention, optional QK-norm, no biases, no dropout, tied or untied embeddings. Megatron pads the
vocabulary to a multiple of `--make-vocab-size-divisible-by` (x tensor-parallel size); the extra
rows never receive a real token.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from openeurollm.errors import InputError
from openeurollm.io.fileio import atomic_open
from openeurollm.model.args import ModelArgs

MEGATRON_VOCAB_MULTIPLE = 128  # Megatron-LM's default --make-vocab-size-divisible-by


def padded_vocab_size(vocab_size: int, divisible_by: int, tensor_parallel: int = 1) -> int:
    """The embedding rows Megatron allocates (`_vocab_size_with_padding` in Megatron-LM)."""
    multiple = divisible_by * tensor_parallel
    return -(-vocab_size // multiple) * multiple


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def model_flags(
    args: ModelArgs, seq_len: int, vocab_divisible_by: int = MEGATRON_VOCAB_MULTIPLE
) -> list[list[str]]:
    """One [flag, value...] per line, in the order Megatron-LM's `--help` groups them."""
    flags = [
        ["--num-layers", str(args.n_layers)],
        ["--hidden-size", str(args.dim)],
        ["--ffn-hidden-size", str(args.ffn_dim)],
        ["--num-attention-heads", str(args.n_heads)],
        ["--kv-channels", str(args.hd)],
    ]
    if args.n_kv_heads != args.n_heads:
        flags += [["--group-query-attention"], ["--num-query-groups", str(args.n_kv_heads)]]
    flags += [
        ["--seq-length", str(seq_len)],
        ["--max-position-embeddings", str(args.max_seq_len)],
        ["--position-embedding-type", "rope"],
        ["--rotary-base", _number(args.rope_theta)],
        ["--rotary-percent", "1.0"],
        ["--normalization", "RMSNorm"],
        ["--norm-epsilon", repr(float(args.norm_eps))],
        ["--swiglu"],
        ["--disable-bias-linear"],
        ["--attention-dropout", "0.0"],
        ["--hidden-dropout", "0.0"],
        ["--init-method-std", repr(float(args.init_std))],
        ["--make-vocab-size-divisible-by", str(vocab_divisible_by)],
    ]
    if args.qk_norm:
        flags.append(["--qk-layernorm"])
    if not args.tie_embeddings:
        flags.append(["--untie-embeddings-and-output-weights"])
    return flags


def write_args_file(path: Path, flags: list[list[str]]) -> None:
    """One option per line, shell-quoted: `xargs` or `$(cat FILE)` turns it into arguments."""
    with atomic_open(Path(path)) as fh:
        fh.write("".join(shlex.join(f) + "\n" for f in flags))


def read_args_file(path: Path) -> dict[str, str | bool]:
    """`--flag value` / `--flag` options of a Megatron arguments file (ours, or a launcher's
    saved command line) as {flag-without-dashes: value or True}."""
    try:
        words = shlex.split(Path(path).read_text(encoding="utf-8"), comments=True)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read Megatron arguments from {path}: {exc}") from None
    out: dict[str, str | bool] = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            nxt = words[i + 1] if i + 1 < len(words) else "--"
            out[word[2:]] = True if nxt.startswith("--") else nxt
    return out


def model_args_from_flags(flags: dict[str, str | bool], vocab_size: int) -> ModelArgs:
    """Our ModelArgs from Megatron flags; anything that our architecture cannot express
    (biases, LayerNorm, GELU, learned positions, partial RoPE) is a one-line InputError."""

    def get(name: str, default: str | None = None) -> str:
        value = flags.get(name, default)
        if value is None or value is True:
            raise InputError(f"Megatron arguments lack --{name}")
        return str(value)

    rope = get("position-embedding-type", "learned_absolute") == "rope"
    unsupported = {
        "normalization": (get("normalization", "LayerNorm") != "RMSNorm", "only RMSNorm"),
        "swiglu": (flags.get("swiglu") is not True, "only SwiGLU MLPs"),
        "disable-bias-linear": (flags.get("disable-bias-linear") is not True, "no biases"),
        "position-embedding-type": (not rope, "only RoPE"),
        "rotary-percent": (float(get("rotary-percent", "1.0")) != 1.0, "RoPE on the whole head"),
        "apply-layernorm-1p": (flags.get("apply-layernorm-1p") is True, "plain RMSNorm weights"),
        "rotary-interleaved": (flags.get("rotary-interleaved") is True, "rotate-half RoPE"),
    }
    for name, (bad, what) in unsupported.items():
        if bad:
            raise InputError(f"--{name}: our architecture supports {what}")
    heads = int(get("num-attention-heads"))
    hidden = int(get("hidden-size"))
    groups = int(get("num-query-groups")) if flags.get("group-query-attention") else heads
    head_dim = int(get("kv-channels", str(hidden // heads)))
    return ModelArgs(
        vocab_size=vocab_size,
        dim=hidden,
        n_layers=int(get("num-layers")),
        n_heads=heads,
        n_kv_heads=groups,
        ffn_dim=int(get("ffn-hidden-size", str(4 * hidden))),
        head_dim=None if head_dim * heads == hidden else head_dim,
        rope_theta=float(get("rotary-base", "10000")),
        norm_eps=float(get("norm-epsilon", "1e-5")),
        qk_norm=flags.get("qk-layernorm") is True,
        tie_embeddings=flags.get("untie-embeddings-and-output-weights") is not True,
        max_seq_len=int(get("max-position-embeddings", get("seq-length"))),
    )
