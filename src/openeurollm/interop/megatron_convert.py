"""Megatron-Core GPT tensors -> our state dict (`model.llama.Transformer` names).

Megatron fuses what we keep apart:
- `self_attention.linear_qkv.weight`: per query group g, the group's query heads, then its
  key head, then its value head: rows `[q_g0 .. q_g(r-1), k_g, v_g] x head_dim` for g in
  0..groups-1 (r = heads / groups). Our wq/wk/wv are the three parts, heads in the same order
  (query head g*r+i reads key/value head g, as our repeat_interleave does).
- `mlp.linear_fc1.weight`: [gate; up] stacked, our w1 and w3.
- RMSNorm weights either as separate modules (`input_layernorm`, `pre_mlp_layernorm`: the
  local spec) or folded into the next linear layer (`linear_qkv.layer_norm_weight`,
  `linear_fc1.layer_norm_weight`: Transformer Engine, and every torch_dist checkpoint).
The embedding (and untied output) rows past the tokenizer's vocabulary are Megatron's padding.
"""

from __future__ import annotations

import re

import torch

from openeurollm.errors import InputError
from openeurollm.model.args import ModelArgs

# Our per-layer name <- the Megatron names it may come from (first found wins).
_LAYER = {
    "attention_norm.weight": ("input_layernorm.weight", "self_attention.linear_qkv.layer_norm_weight"),
    "ffn_norm.weight": ("pre_mlp_layernorm.weight", "mlp.linear_fc1.layer_norm_weight"),
    "attention.wo.weight": ("self_attention.linear_proj.weight",),
    "attention.q_norm.weight": ("self_attention.q_layernorm.weight",),
    "attention.k_norm.weight": ("self_attention.k_layernorm.weight",),
    "feed_forward.w2.weight": ("mlp.linear_fc2.weight",),
}  # fmt: skip
_QKV, _FC1 = "self_attention.linear_qkv.weight", "mlp.linear_fc1.weight"
_PER_LAYER = re.compile(r"^decoder\.layers\.(\d+)\.(.+)$")
_STACKED = re.compile(r"^decoder\.layers\.(?!\d+\.)(.+)$")


def per_layer(tensors: dict[str, torch.Tensor], n_layers: int) -> list[dict[str, torch.Tensor]]:
    """Split `decoder.layers.<i>.<name>` keys, or stacked `decoder.layers.<name>` tensors
    (leading layer axis, torch_dist), into one {name: tensor} per layer."""
    layers: list[dict[str, torch.Tensor]] = [{} for _ in range(n_layers)]
    for key, value in tensors.items():
        if m := _PER_LAYER.match(key):
            i = int(m.group(1))
            if i >= n_layers:
                raise InputError(f"checkpoint tensor {key} is past --num-layers {n_layers}")
            layers[i][m.group(2)] = value
        elif m := _STACKED.match(key):
            if value.shape[0] != n_layers:
                raise InputError(f"{key} stacks {value.shape[0]} layers, not {n_layers}")
            for i in range(n_layers):
                layers[i][m.group(1)] = value[i]
    return layers


def split_qkv(qkv: torch.Tensor, args: ModelArgs) -> tuple[torch.Tensor, ...]:
    """Megatron's grouped QKV rows -> (wq, wk, wv)."""
    rep, hd = args.n_heads // args.n_kv_heads, args.hd
    expected = (args.n_heads + 2 * args.n_kv_heads) * hd
    if qkv.shape != (expected, args.dim):
        raise InputError(
            f"linear_qkv is {tuple(qkv.shape)}, the arguments imply {(expected, args.dim)}"
        )
    grouped = qkv.reshape(args.n_kv_heads, (rep + 2) * hd, args.dim)
    q, k, v = grouped.split([rep * hd, hd, hd], dim=1)
    return (
        q.reshape(args.n_heads * hd, args.dim),
        k.reshape(args.n_kv_heads * hd, args.dim),
        v.reshape(args.n_kv_heads * hd, args.dim),
    )


def _layer(src: dict[str, torch.Tensor], i: int, args: ModelArgs) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for ours, theirs in _LAYER.items():
        found = [src[name] for name in theirs if name in src]
        if found:
            out[f"layers.{i}.{ours}"] = found[0]
    wq, wk, wv = split_qkv(_need(src, _QKV, i), args)
    fc1 = _need(src, _FC1, i)
    if fc1.shape != (2 * args.ffn_dim, args.dim):
        raise InputError(
            f"layer {i} linear_fc1 is {tuple(fc1.shape)}, not SwiGLU of {args.ffn_dim}"
        )
    w1, w3 = fc1.chunk(2, dim=0)
    prefix = f"layers.{i}."
    out.update({prefix + "attention.wq.weight": wq, prefix + "attention.wk.weight": wk,
                prefix + "attention.wv.weight": wv, prefix + "feed_forward.w1.weight": w1,
                prefix + "feed_forward.w3.weight": w3})  # fmt: skip
    known = {*(n for names in _LAYER.values() for n in names), _QKV, _FC1}
    extra = sorted(set(src) - known)
    if extra:
        raise InputError(f"layer {i} has tensors our architecture lacks: {', '.join(extra[:3])}")
    return out


def _need(src: dict[str, torch.Tensor], name: str, i: int) -> torch.Tensor:
    if name not in src:
        raise InputError(f"layer {i} has no {name} in the checkpoint")
    return src[name]


def _rows(tensor: torch.Tensor, vocab: int, name: str) -> torch.Tensor:
    if tensor.shape[0] < vocab:
        raise InputError(f"{name} has {tensor.shape[0]} rows, fewer than the tokenizer's {vocab}")
    return tensor[:vocab]


def to_our_state_dict(tensors: dict[str, torch.Tensor], args: ModelArgs) -> dict[str, torch.Tensor]:
    """Our Transformer's state dict from Megatron GPT tensors (see the module docstring)."""
    state: dict[str, torch.Tensor] = {}
    for i, layer in enumerate(per_layer(tensors, args.n_layers)):
        state.update(_layer(layer, i, args))
    top = {k: v for k, v in tensors.items() if not k.startswith("decoder.layers.")}
    if "embedding.word_embeddings.weight" not in top or "decoder.final_layernorm.weight" not in top:
        raise InputError("the checkpoint has no embedding or final norm (a pipeline stage only?)")
    state["tok_embeddings.weight"] = _rows(
        top.pop("embedding.word_embeddings.weight"), args.vocab_size, "the embedding"
    )
    state["norm.weight"] = top.pop("decoder.final_layernorm.weight")
    output = top.pop("output_layer.weight", None)
    if not args.tie_embeddings:
        if output is None:
            raise InputError("untied embeddings, but the checkpoint has no output_layer.weight")
        state["output.weight"] = _rows(output, args.vocab_size, "output_layer")
    top = {k: v for k, v in top.items() if not k.endswith("inv_freq")}
    if top:
        raise InputError(f"tensors our architecture lacks: {', '.join(sorted(top)[:3])}")
    return {k: v.detach().to(torch.float32).contiguous().clone() for k, v in state.items()}
