"""`openeurollm export megatron RUN_DIR OUT`: what Megatron-LM needs to train on a run's data.

OUT receives:
- `data_args.txt`: the blend as `w1 prefix1 w2 prefix2 ...` (for `--data-path $(cat ...)` or
  `--data-args-path`); `blend.json`: the same per split (for `--per-split-data-args-path`).
  Every shard file is one prefix, weighted by its share of the run's tokens: Megatron then
  samples each language as often as our trainer does (the mix already set those shares).
- `tokenizer/`: the run's tokenizer as a Hugging Face folder
  (`--tokenizer-type HuggingFaceTokenizer --tokenizer-model OUT/tokenizer`).
- `model_args.txt`: the recipe flavor's model arguments (`interop.megatron_args`).
- `launch.sh`: a launch snippet with the three argument groups as bash arrays.
- `export.json`: what was exported (model shape, padded vocabulary, prefixes, token counts).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import numpy as np

from openeurollm.errors import InputError
from openeurollm.interop.megatron_args import (
    MEGATRON_VOCAB_MULTIPLE,
    model_flags,
    padded_vocab_size,
    write_args_file,
)
from openeurollm.io.fileio import atomic_open, file_sha256, read_json, write_json
from openeurollm.model.args import ModelArgs, num_params
from openeurollm.model.flavors import model_args
from openeurollm.tokenizer.hf import save_hf_tokenizer


def _run_model_args(run_dir: Path, recipe: dict[str, Any], vocab_size: int) -> ModelArgs:
    """The trained shape when the run has trained, else the recipe's flavor at the tokenizer's
    vocabulary (what the train stage would build)."""
    trained = run_dir / "train" / "model_config.json"
    if trained.is_file():
        from openeurollm.eval.loading import read_model_args

        return read_model_args(trained)
    model = recipe.get("model", {})
    return model_args(model.get("flavor", "debug"), model.get("overrides"), vocab_size)


def data_blend(shards_dir: Path, meta: dict[str, Any]) -> list[tuple[float, str, str, int]]:
    """(weight, prefix, language, tokens) per shard file; weights sum to 1."""
    total = int(meta["total_tokens"])
    if total <= 0:
        raise InputError(f"{shards_dir} holds no tokens; nothing to train on")
    blend = []
    for lang in sorted(meta["languages"]):
        for rel in meta["languages"][lang]["files"]:
            tokens = (shards_dir / rel).stat().st_size // np.dtype(meta["dtype"]).itemsize
            if tokens:
                prefix = str((shards_dir / rel).resolve().with_suffix(""))
                blend.append((tokens / total, prefix, lang, tokens))
    return blend


def _launch_script(flags: list[list[str]], out: Path) -> str:
    model = "\n".join(f"    {shlex.join(f)}" for f in flags)
    tokenizer = out.resolve() / "tokenizer"
    return f"""\
# Megatron-LM launch snippet written by `openeurollm export megatron` (edit the parallel and
# optimizer settings for your cluster; the model, data and tokenizer arguments match the run).
MODEL_ARGS=(
{model}
)
TOKENIZER_ARGS=(
    --tokenizer-type HuggingFaceTokenizer
    --tokenizer-model {shlex.quote(str(tokenizer))}
)
DATA_ARGS=(
    --per-split-data-args-path {shlex.quote(str(out.resolve() / "blend.json"))}
)
# torchrun --nproc-per-node 8 pretrain_gpt.py "${{MODEL_ARGS[@]}}" "${{TOKENIZER_ARGS[@]}}" \\
#     "${{DATA_ARGS[@]}}" --micro-batch-size 1 --global-batch-size 256 --lr 3e-4 ...
"""


def export_megatron(
    run_dir: Path, out: Path, vocab_divisible_by: int = MEGATRON_VOCAB_MULTIPLE
) -> dict[str, Any]:
    """Write OUT (see the module docstring); returns the export record."""
    run_dir, out = Path(run_dir), Path(out)
    shards_dir, tok_json = run_dir / "shards", run_dir / "tokenizer" / "tokenizer.json"
    for needed in (run_dir / "manifest.json", shards_dir / "meta.json", tok_json):
        if not needed.is_file():
            raise InputError(f"{needed} is missing: run the recipe up to the shards stage first")
    recipe = read_json(run_dir / "manifest.json").get("recipe", {})
    meta = read_json(shards_dir / "meta.json")
    args = _run_model_args(run_dir, recipe, int(meta["vocab_size"]))
    seq_len = int(recipe.get("train", {}).get("seq_len", args.max_seq_len))
    flags = model_flags(args, seq_len, vocab_divisible_by)
    blend = data_blend(shards_dir, meta)

    out.mkdir(parents=True, exist_ok=True)
    save_hf_tokenizer(tok_json, out / "tokenizer", args.max_seq_len)
    pairs = [x for weight, prefix, _, _ in blend for x in (repr(weight), prefix)]
    with atomic_open(out / "data_args.txt") as fh:
        fh.write(shlex.join(pairs) + "\n")
    write_json(out / "blend.json", {"train": pairs, "valid": None, "test": None})
    write_args_file(out / "model_args.txt", flags)
    with atomic_open(out / "launch.sh") as fh:
        fh.write(_launch_script(flags, out))
    padded = padded_vocab_size(args.vocab_size, vocab_divisible_by)
    record = {
        "run_dir": str(run_dir.resolve()),
        "model": args.to_dict(),
        "seq_len": seq_len,
        "vocab_size": args.vocab_size,
        "padded_vocab_size": padded,
        "parameters": num_params(args),
        "parameters_padded": num_params(args.replace(vocab_size=padded)),
        "shards_meta_sha256": file_sha256(shards_dir / "meta.json"),
        "blend": [
            {"weight": w, "prefix": p, "language": lang, "tokens": t} for w, p, lang, t in blend
        ],
    }
    write_json(out / "export.json", record)
    return record
