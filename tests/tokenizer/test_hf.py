"""The release folder's tokenizer: transformers.AutoTokenizer, offline, encodes exactly as ours."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from openeurollm.tokenizer.encoder import TextTokenizer
from openeurollm.tokenizer.hf import save_hf_tokenizer
from openeurollm.tokenizer.train import save_tokenizer, train_tokenizer

from .corpus import PHRASES, documents

transformers = pytest.importorskip("transformers")


def test_autotokenizer_encodes_exactly_as_ours(tmp_path: Path) -> None:
    from ..conftest import SHARED_DATA

    sources = {lang: partial(documents, lang, 30) for lang in PHRASES}
    path = tmp_path / "tokenizer.json"
    save_tokenizer(train_tokenizer(sources, 700, min_frequency=1).tokenizer, path)
    release = tmp_path / "release"
    written = save_hf_tokenizer(path, release, model_max_length=2048)
    assert sorted(p.name for p in release.iterdir()) == written

    hf = transformers.AutoTokenizer.from_pretrained(str(release), local_files_only=True)
    ours = TextTokenizer.from_file(path)
    texts = [t for lang in PHRASES for t in documents(lang, 5)]
    texts += ["", "  two  spaces\n\n\ttab", "an <|eos|> inside text <|user|>", "Kapita\u0308n 2024"]
    if SHARED_DATA.is_dir():  # every language of the shared data when it is there
        for file in sorted((SHARED_DATA / "ntrex").glob("*.txt")):
            texts += file.read_text(encoding="utf-8").splitlines()[:20]
    assert hf(texts)["input_ids"] == ours.encode_batch(texts)
    for text in texts[:50]:
        ids = ours.encode(text)
        assert hf.encode(text) == ids
        assert hf.decode(ids) == ours.decode(ids)
    assert (hf.bos_token_id, hf.eos_token_id, hf.pad_token_id) == (
        ours.bos_id,
        ours.eos_id,
        ours.pad_id,
    )
    assert hf.model_max_length == 2048
    config = json.loads((release / "tokenizer_config.json").read_text())
    assert "<|user|>" in config["additional_special_tokens"]


def test_rejects_a_foreign_tokenizer(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models

    path = tmp_path / "tokenizer.json"
    Tokenizer(models.BPE()).save(str(path))
    with pytest.raises(ValueError, match="not a tokenizer of this project"):
        save_hf_tokenizer(path, tmp_path / "out")
