"""The release folder built from a run directory: loads offline, verifies, answers membership."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from openeurollm.config import ReleaseConfig
from openeurollm.data.document import normalized_hash
from openeurollm.io.fileio import write_json
from openeurollm.release.build import build_release
from openeurollm.release.cli_commands import check_inclusion, verify_release
from openeurollm.shards.lineage import LineageWriter
from openeurollm.tokenizer.encoder import TextTokenizer

from ..eval.tiny import synthetic_texts, tiny_model, tiny_tokenizer
from .test_documents import entries


def test_build_release_from_run_dir(tmp_path: Path) -> None:
    run = tmp_path / "run"
    tok_path = tiny_tokenizer(run / "tokenizer" / "tokenizer.json")
    tok = TextTokenizer.from_file(tok_path)
    model = tiny_model(tok.vocab_size)
    (run / "train").mkdir()
    save_file(model.state_dict(), str(run / "train" / "model.safetensors"))
    write_json(run / "train" / "model_config.json", model.args.to_dict())
    write_json(run / "eval" / "results.json", {"bpb": {"en": {"bpb": 3.2}}})
    texts = synthetic_texts("en", 50)
    with LineageWriter(run / "shards" / "lineage.parquet") as w:
        for i, text in enumerate(texts):
            w.add(lang="en", shard="en/00000.bin", start=i, end=i + 1, doc_id=f"d{i}",
                  url=f"https://en.example/{i}", hash=normalized_hash(text))  # fmt: skip

    out = run / "release"
    record = build_release(out, run, entries(), ReleaseConfig(), logging.getLogger("test"))

    assert record["architecture"] == "Qwen3ForCausalLM"
    assert record["openness_class"].startswith("Class III")
    assert record["membership"]["documents"] == 50
    for name in ("model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
                 "tokenizer_config.json", "README.md", "datasheet.md", "croissant.json",
                 "training_content_summary.md", "technical_documentation.md",
                 "downstream_information.md", "copyright_policy.md", "model_openness.yaml",
                 "membership.filter", "membership.json", "eval_results.json", "SHA256SUMS"):  # fmt: skip
        assert (out / name).is_file(), name
    assert json.loads((out / "eval_results.json").read_text())["bpb"]["en"]["bpb"] == 3.2
    # the card states the weights' SHA-256 in the form verify cross-checks
    assert verify_release(out).card == "the model card's weights SHA-256 matches"
    assert check_inclusion(out, "HTTP://EN.example:443/7/", None)[0]
    text_file = tmp_path / "t.txt"
    text_file.write_text(texts[3], encoding="utf-8")
    assert check_inclusion(out, None, text_file)[0]

    transformers = pytest.importorskip("transformers")
    hf = transformers.AutoModelForCausalLM.from_pretrained(out, local_files_only=True).eval()
    ids = torch.tensor([tok.encode(texts[0])[:20]])
    with torch.no_grad():
        assert (hf(input_ids=ids).logits - model(ids)).abs().max().item() <= 1e-4
