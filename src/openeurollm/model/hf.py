"""Our state dict <-> Hugging Face LlamaForCausalLM / Qwen3ForCausalLM (QK-norm on).

Our attention uses the rotate-half RoPE layout that Hugging Face uses, so the conversion is
a renaming: no tensor is permuted or copied. Tied embeddings have no output tensor on our
side and none on theirs (`tie_word_embeddings: true`).
"""

from __future__ import annotations

import re
from typing import Any

from openeurollm.model.args import ModelArgs

_LAYER = {
    "attention_norm.weight": "input_layernorm.weight",
    "attention.wq.weight": "self_attn.q_proj.weight",
    "attention.wk.weight": "self_attn.k_proj.weight",
    "attention.wv.weight": "self_attn.v_proj.weight",
    "attention.wo.weight": "self_attn.o_proj.weight",
    "attention.q_norm.weight": "self_attn.q_norm.weight",
    "attention.k_norm.weight": "self_attn.k_norm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "feed_forward.w1.weight": "mlp.gate_proj.weight",
    "feed_forward.w3.weight": "mlp.up_proj.weight",
    "feed_forward.w2.weight": "mlp.down_proj.weight",
}
_TOP = {
    "tok_embeddings.weight": "model.embed_tokens.weight",
    "norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
_LAYER_BACK = {v: k for k, v in _LAYER.items()}
_TOP_BACK = {v: k for k, v in _TOP.items()}
_OURS = re.compile(r"^layers\.(\d+)\.(.+)$")
_THEIRS = re.compile(r"^model\.layers\.(\d+)\.(.+)$")


def architecture(args: ModelArgs) -> str:
    return "Qwen3ForCausalLM" if args.qk_norm else "LlamaForCausalLM"


def _rename(
    name: str, layer: re.Pattern[str], per_layer: dict[str, str], top: dict[str, str], prefix: str
) -> str | None:
    m = layer.match(name)
    if m and m.group(2) in per_layer:
        return f"{prefix}{m.group(1)}.{per_layer[m.group(2)]}"
    return top.get(name)


def hf_name(name: str) -> str:
    """Our parameter name -> the Hugging Face one."""
    out = _rename(name, _OURS, _LAYER, _TOP, "model.layers.")
    if out is None:
        raise KeyError(f"no Hugging Face name for parameter {name!r}")
    return out


def our_name(name: str) -> str:
    """A Hugging Face parameter name -> ours."""
    out = _rename(name, _THEIRS, _LAYER_BACK, _TOP_BACK, "layers.")
    if out is None:
        raise KeyError(f"parameter {name!r} is not part of our architecture")
    return out


def to_hf_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    return {hf_name(k): v for k, v in state.items()}


def from_hf_state_dict(state: dict[str, Any], args: ModelArgs) -> dict[str, Any]:
    out = {our_name(k): v for k, v in state.items() if not k.endswith("rotary_emb.inv_freq")}
    if args.tie_embeddings:
        out.pop("output.weight", None)  # a tied checkpoint may still carry the alias
    return out


def hf_config(
    args: ModelArgs,
    bos_token_id: int | None = None,
    eos_token_id: int | None = None,
    pad_token_id: int | None = None,
    dtype: str = "float32",
    max_position_embeddings: int | None = None,
) -> dict[str, Any]:
    """config.json for transformers (>= 4.45; the v5 rope_parameters block is written too)."""
    arch = architecture(args)
    cfg: dict[str, Any] = {
        "architectures": [arch],
        "model_type": "qwen3" if args.qk_norm else "llama",
        "vocab_size": args.vocab_size,
        "hidden_size": args.dim,
        "intermediate_size": args.ffn_dim,
        "num_hidden_layers": args.n_layers,
        "num_attention_heads": args.n_heads,
        "num_key_value_heads": args.n_kv_heads,
        "head_dim": args.hd,
        "hidden_act": "silu",
        "max_position_embeddings": max_position_embeddings or args.max_seq_len,
        "rms_norm_eps": args.norm_eps,
        "rope_theta": args.rope_theta,
        "rope_parameters": {"rope_type": "default", "rope_theta": args.rope_theta},
        "rope_scaling": None,
        "tie_word_embeddings": args.tie_embeddings,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "initializer_range": args.init_std,
        "use_cache": True,
        "torch_dtype": dtype,
        "bos_token_id": bos_token_id,
        "eos_token_id": eos_token_id,
        "pad_token_id": pad_token_id,
    }
    if arch == "LlamaForCausalLM":
        cfg.update(mlp_bias=False, pretraining_tp=1)
    else:
        cfg.update(use_sliding_window=False, sliding_window=None, max_window_layers=args.n_layers)
    return cfg


def args_from_hf_config(cfg: dict[str, Any]) -> ModelArgs:
    rope = cfg.get("rope_parameters") or {}
    return ModelArgs(
        vocab_size=cfg["vocab_size"],
        dim=cfg["hidden_size"],
        n_layers=cfg["num_hidden_layers"],
        n_heads=cfg["num_attention_heads"],
        n_kv_heads=cfg.get("num_key_value_heads", cfg["num_attention_heads"]),
        ffn_dim=cfg["intermediate_size"],
        head_dim=cfg.get("head_dim"),
        rope_theta=rope.get("rope_theta", cfg.get("rope_theta", 10_000.0)),
        norm_eps=cfg.get("rms_norm_eps", 1e-5),
        qk_norm=cfg.get("model_type") == "qwen3",
        tie_embeddings=cfg.get("tie_word_embeddings", False),
        max_seq_len=cfg.get("max_position_embeddings", 4096),
    )
