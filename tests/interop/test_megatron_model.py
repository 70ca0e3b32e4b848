"""`export megatron` arguments build the same network in megatron-core; megatron-core GPT
checkpoints (torch_dist and legacy torch) import to our HF layout with the same logits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from openeurollm.cli import main as cli
from openeurollm.errors import InputError
from openeurollm.interop.megatron_args import (
    model_args_from_flags,
    model_flags,
    read_args_file,
    write_args_file,
)
from openeurollm.interop.megatron_checkpoint import read_checkpoint
from openeurollm.interop.megatron_import import load_hf_folder
from openeurollm.model.args import ModelArgs, num_params
from openeurollm.model.llama import Transformer
from openeurollm.tokenizer.encoder import TextTokenizer

SIDE = Path(__file__).with_name("megatron_side.py")
# The second shape: untied, plain multi-head attention, no QK-norm, head_dim != dim / heads.
UNTIED = ModelArgs(vocab_size=1200, dim=64, n_layers=2, n_heads=4, n_kv_heads=4, ffn_dim=96,
                   head_dim=24, rope_theta=500_000.0, norm_eps=1e-6, tie_embeddings=False,
                   max_seq_len=256)  # fmt: skip


class Unpicklable:
    """A class `torch.load(weights_only=True)` refuses to rebuild, as it should any unknown one."""


@pytest.fixture(scope="module")
def megatron(small_run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Export the small run, then let megatron-core build, run and save both shapes."""
    root = tmp_path_factory.mktemp("megatron")
    export = root / "export"
    assert cli(["export", "megatron", str(small_run.run_dir), str(export)]) == 0
    write_args_file(root / "untied_args.txt", model_flags(UNTIED, seq_len=64))
    tokens = torch.randint(0, 1200, (2, 12), generator=torch.Generator().manual_seed(0))
    work = {"tied": root / "tied", "untied": root / "untied"}
    argv = [sys.executable, str(SIDE), "1200"]
    for name, args_file in (
        ("tied", export / "model_args.txt"),
        ("untied", root / "untied_args.txt"),
    ):
        work[name].mkdir()
        save_file({"tokens": tokens}, work[name] / "tokens.safetensors")
        argv += [str(args_file), str(work[name])]
    env = {**os.environ, "MEGATRON_PORT": str(29500 + os.getpid() % 400)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"export": export, "untied_args": root / "untied_args.txt", **work}


def test_export_blend_tokenizer_and_arguments(small_run, megatron) -> None:
    from megatron.core.datasets.indexed_dataset import IndexedDataset
    from transformers import AutoTokenizer

    export = megatron["export"]
    record = json.loads((export / "export.json").read_text())
    meta = json.loads((small_run.run_dir / "shards" / "meta.json").read_text())
    words = (export / "data_args.txt").read_text().split()
    weights, prefixes = [float(w) for w in words[::2]], words[1::2]
    assert json.loads((export / "blend.json").read_text())["train"] == words
    assert sum(weights) == pytest.approx(1.0)
    by_lang: dict[str, float] = {}
    for item in record["blend"]:
        by_lang[item["language"]] = by_lang.get(item["language"], 0.0) + item["weight"]
    for lang, info in meta["languages"].items():  # Megatron samples languages as we do
        assert by_lang[lang] == pytest.approx(info["tokens"] / meta["total_tokens"])
    assert sum(len(IndexedDataset(p)) for p in prefixes) == meta["total_docs"]

    ours = TextTokenizer.from_file(small_run.run_dir / "tokenizer" / "tokenizer.json")
    hf = AutoTokenizer.from_pretrained(str(export / "tokenizer"))
    text = "Das Wetter im Norden wird morgen kälter (7)."
    assert hf(text)["input_ids"] == ours.encode_batch([text])[0]

    trained = ModelArgs.from_dict(record["model"])
    assert model_args_from_flags(read_args_file(export / "model_args.txt"), 1200) == trained
    launch = (export / "launch.sh").read_text()
    assert "--tokenizer-type HuggingFaceTokenizer" in launch and "--qk-layernorm" in launch


@pytest.mark.parametrize("shape", ["tied", "untied"])
def test_megatron_builds_a_model_of_our_size(megatron, small_run, shape: str) -> None:
    facts = json.loads((megatron[shape] / "facts.json").read_text())
    if shape == "tied":
        args = ModelArgs.from_dict(
            json.loads((megatron["export"] / "export.json").read_text())["model"]
        )
    else:
        args = UNTIED
    assert facts["padded_vocab"] == 1280  # 1200 rounded up to a multiple of 128
    padded = args.replace(vocab_size=facts["padded_vocab"])
    with torch.device("meta"):
        live = sum(p.numel() for p in Transformer(padded).parameters())
    assert facts["parameters"] == num_params(padded) == live


@pytest.mark.parametrize("shape", ["tied", "untied"])
@pytest.mark.parametrize("fmt", ["ckpt-dist", "ckpt-torch"])
def test_imported_checkpoint_has_megatrons_logits(
    megatron, tmp_path: Path, shape: str, fmt: str
) -> None:
    from transformers import AutoModelForCausalLM

    work, out = megatron[shape], tmp_path / "model"
    argv = [
        "import",
        "megatron",
        str(work / fmt),
        str(out),
        "--tokenizer",
        str(megatron["export"] / "tokenizer"),
    ]
    if fmt == "ckpt-dist":  # torch_dist keeps no model arguments we can read: pass them
        argv += [
            "--args",
            str(
                megatron["export"] / "model_args.txt"
                if shape == "tied"
                else megatron["untied_args"]
            ),
        ]
    assert cli(argv) == 0
    record = json.loads((out / "megatron_import.json").read_text())
    assert record["format"] == fmt.removeprefix("ckpt-").replace("dist", "torch_dist")
    assert record["padded_vocab_rows_dropped"] == 80

    tokens = load_file(work / "tokens.safetensors")["tokens"]
    reference = load_file(work / "logits.safetensors")["logits"][..., :1200]
    with torch.no_grad():
        ours = load_hf_folder(out)(tokens)
        theirs = AutoModelForCausalLM.from_pretrained(str(out)).eval()(tokens).logits
    assert (ours - reference).abs().max() < 1e-4
    assert (theirs - reference).abs().max() < 1e-4
    assert reference.std() > 0.01  # the logits are not trivially equal


def test_imported_model_runs_our_eval(megatron, small_run, tmp_path: Path) -> None:
    from openeurollm.eval.run import heldout_texts, run_bpb
    from openeurollm.eval.scorer import Scorer

    out = tmp_path / "model"
    cli(["import", "megatron", str(megatron["tied"] / "ckpt-torch"), str(out),
         "--tokenizer", str(megatron["export"] / "tokenizer")])  # fmt: skip
    tok = TextTokenizer.from_file(out / "tokenizer.json")
    texts = heldout_texts(small_run.run_dir / "mix" / "heldout", ["de"], max_docs=2)
    result = run_bpb(Scorer(load_hf_folder(out), max_length=64), tok, texts, window=64)
    assert np.isfinite(result["de"]["bpb"]) and result["de"]["bpb"] > 0


def test_unsafe_or_unsupported_checkpoints_are_one_line_errors(megatron, tmp_path: Path) -> None:
    pickled = tmp_path / "evil.pt"
    torch.save({"model": {}, "hook": Unpicklable()}, pickled)
    with pytest.raises(InputError, match="cannot be loaded without unpickling"):
        read_checkpoint(pickled)
    split = tmp_path / "tp2" / "iter_0000001"
    for rank in ("mp_rank_00", "mp_rank_01"):
        (split / rank).mkdir(parents=True)
    with pytest.raises(InputError, match="2 model-parallel ranks"):
        read_checkpoint(split)
    flags = read_args_file(megatron["untied_args"])
    with pytest.raises(InputError, match="only RMSNorm"):
        model_args_from_flags({**flags, "normalization": "LayerNorm"}, 1200)
    wrong = tmp_path / "wrong_args.txt"
    write_args_file(wrong, model_flags(UNTIED.replace(ffn_dim=128), 64))
    assert cli(["import", "megatron", str(megatron["untied"] / "ckpt-dist"), str(tmp_path / "o"),
                "--tokenizer", str(megatron["export"] / "tokenizer"), "--args", str(wrong)]) == 2  # fmt: skip
