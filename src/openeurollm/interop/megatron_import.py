"""`openeurollm import megatron CKPT OUT --tokenizer TOK`: a Megatron-Core GPT checkpoint of a
Llama/Qwen-style model -> our Hugging Face release layout (model.safetensors, config.json,
tokenizer files), which our eval loads (`load_hf_folder`) and transformers loads as it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer

from openeurollm.errors import InputError
from openeurollm.interop.megatron_args import model_args_from_flags, read_args_file
from openeurollm.interop.megatron_checkpoint import read_checkpoint
from openeurollm.interop.megatron_convert import to_our_state_dict
from openeurollm.io.fileio import read_json, write_json
from openeurollm.model.args import ModelArgs
from openeurollm.model.hf import args_from_hf_config, from_hf_state_dict
from openeurollm.model.llama import Transformer
from openeurollm.tokenizer.train import BOS, EOS, PAD


def _tokenizer_json(path: Path) -> Path:
    path = Path(path)
    found = path / "tokenizer.json" if path.is_dir() else path
    if not found.is_file():
        raise InputError(f"{found}: no tokenizer.json (give the folder `export megatron` wrote)")
    return found


def _flags_from_saved(saved: dict[str, Any]) -> dict[str, str | bool]:
    """Megatron-LM's saved argparse values as command-line flags (`add_bias_linear=False` is
    what `--disable-bias-linear` sets)."""
    flags: dict[str, str | bool] = {}
    for key, value in saved.items():
        if value is None or value is False:
            continue
        flags[key.replace("_", "-")] = True if value is True else str(value)
    if saved.get("add_bias_linear") is False:
        flags["disable-bias-linear"] = True
    return flags


def import_megatron(
    checkpoint: Path, out: Path, tokenizer: Path, args_file: Path | None = None
) -> dict[str, Any]:
    """Convert and write the HF folder; returns the import record (also written as
    megatron_import.json)."""
    from openeurollm.release.hf_export import export_hf

    tok_json = _tokenizer_json(tokenizer)
    tok = Tokenizer.from_file(str(tok_json))
    lacking = [t for t in (BOS, EOS, PAD) if tok.token_to_id(t) is None]
    if lacking:  # the release's tokenizer files and generation config name these
        raise InputError(f"{tok_json} lacks {', '.join(lacking)}: not an openeurollm tokenizer")
    vocab = tok.get_vocab_size(with_added_tokens=True)
    ckpt = read_checkpoint(Path(checkpoint))
    if args_file is not None:
        flags, source = read_args_file(Path(args_file)), str(args_file)
    elif ckpt.saved_args is not None:
        flags, source = _flags_from_saved(ckpt.saved_args), "the checkpoint's saved args"
    else:
        raise InputError(
            f"{ckpt.path} carries no readable model arguments; pass --args with the Megatron "
            "arguments file (e.g. model_args.txt from `openeurollm export megatron`)"
        )
    args = model_args_from_flags(flags, vocab)
    state = to_our_state_dict(ckpt.tensors, args)
    _check_fits(state, args)
    written = export_hf(state, args, tok_json, Path(out))
    record = {
        "source": str(Path(checkpoint).resolve()),
        "read": str(ckpt.path.resolve()),
        "format": ckpt.format,
        "arguments_from": source,
        "model": args.to_dict(),
        "padded_vocab_rows_dropped": int(
            ckpt.tensors["embedding.word_embeddings.weight"].shape[0] - vocab
        ),
        **written,
    }
    write_json(Path(out) / "megatron_import.json", record)
    return record


def _check_fits(state: dict[str, torch.Tensor], args: ModelArgs) -> None:
    """Every tensor must have exactly the shape our model gives it (on the meta device: free)."""
    with torch.device("meta"):
        expected = Transformer(args).state_dict()
    missing = sorted(set(expected) - set(state))
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or wrong:
        raise InputError(
            f"the checkpoint does not fit the arguments: missing {missing[:3]}, "
            f"wrong shape {[(k, tuple(state[k].shape)) for k in wrong[:3]]}"
        )


def load_hf_folder(folder: Path) -> Transformer:
    """Our Transformer from a single-file HF folder of ours (a release or an import)."""
    folder = Path(folder)
    args = args_from_hf_config(read_json(folder / "config.json"))
    model = Transformer(args)
    model.load_state_dict(from_hf_state_dict(load_file(str(folder / "model.safetensors")), args))
    return model.eval()
