"""Hugging Face export: safetensors (sharded when large), config.json, generation_config.json
and tokenizer files, so `AutoModelForCausalLM.from_pretrained(folder)` loads the release."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from openeurollm.io.fileio import atomic_path, write_json
from openeurollm.model.args import ModelArgs
from openeurollm.model.hf import hf_config, to_hf_state_dict

SPECIAL = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "pad_token": "<|pad|>"}
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _save_shard(tensors: dict[str, torch.Tensor], path: Path) -> None:
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt"})


def write_weights(
    state: dict[str, torch.Tensor], out_dir: Path, max_shard_bytes: int, dtype: str = "float32"
) -> list[str]:
    """Write HF-named weights; one model.safetensors, or model-0000i-of-0000n.safetensors plus
    model.safetensors.index.json when they exceed `max_shard_bytes`. Returns the file names."""
    hf = {
        k: v.detach().to("cpu", _DTYPES[dtype]).contiguous()
        for k, v in sorted(to_hf_state_dict(state).items())
    }
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name, tensor in hf.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += nbytes
    if len(shards) == 1:
        _save_shard(shards[0], out_dir / "model.safetensors")
        return ["model.safetensors"]
    names, weight_map = [], {}
    for i, shard in enumerate(shards, start=1):
        fname = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        _save_shard(shard, out_dir / fname)
        names.append(fname)
        weight_map.update(dict.fromkeys(shard, fname))
    total = sum(t.numel() * t.element_size() for t in hf.values())
    write_json(
        out_dir / "model.safetensors.index.json",
        {"metadata": {"total_size": total}, "weight_map": weight_map},
    )
    return [*names, "model.safetensors.index.json"]


def write_tokenizer(tokenizer_json: Path, out_dir: Path, model_max_length: int) -> list[str]:
    """Tokenizer files for transformers; returns their names (all of them, also when a resumed
    release finds them already written)."""
    from openeurollm.tokenizer.hf import save_hf_tokenizer

    return sorted(save_hf_tokenizer(tokenizer_json, out_dir, model_max_length))


def special_ids(tokenizer_json: Path) -> dict[str, int | None]:
    vocab: dict[str, int] = {}
    data = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
    for tok in data.get("added_tokens", []):
        vocab[tok["content"]] = tok["id"]
    return {f"{k[:-6]}_token_id": vocab.get(v) for k, v in SPECIAL.items()}


def export_hf(
    state: dict[str, torch.Tensor],
    args: ModelArgs,
    tokenizer_json: Path,
    out_dir: Path,
    max_shard_bytes: int = 5 * 2**30,
    dtype: str = "float32",
    max_position_embeddings: int | None = None,
) -> dict[str, Any]:
    """Write the whole HF folder; returns what was written (for the release record)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = special_ids(tokenizer_json)
    weights = write_weights(state, out_dir, max_shard_bytes, dtype)
    config = hf_config(args, dtype=dtype, max_position_embeddings=max_position_embeddings, **ids)
    write_json(out_dir / "config.json", config)
    write_json(
        out_dir / "generation_config.json",
        {
            "bos_token_id": ids["bos_token_id"],
            "eos_token_id": ids["eos_token_id"],
            "pad_token_id": ids["pad_token_id"],
            "do_sample": False,
        },
    )
    tok_files = write_tokenizer(
        tokenizer_json, out_dir, max_position_embeddings or args.max_seq_len
    )
    return {
        "architecture": config["architectures"][0],
        "weights": weights,
        "dtype": dtype,
        "tokenizer_files": tok_files,
        "parameters": sum(int(t.numel()) for t in state.values()),
    }
