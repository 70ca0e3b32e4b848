"""Fertility and parity: exact numbers on hand-checkable cases, and the stage's outputs."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from openeurollm.tokenizer.encoder import TextTokenizer
from openeurollm.tokenizer.fertility import (
    aligned_parity,
    fertility_report,
    language_stats,
    proxy_parity,
    summarize,
)
from openeurollm.tokenizer.train import train_tokenizer

from .corpus import PHRASES, documents, run_tokenizer_stage


@pytest.fixture(scope="module")
def tok() -> TextTokenizer:
    sources = {lang: partial(documents, lang, 30) for lang in PHRASES}
    return TextTokenizer(train_tokenizer(sources, 500, min_frequency=1).tokenizer)


def test_language_stats_are_consistent(tok: TextTokenizer) -> None:
    texts = documents("el", 5)
    s = language_stats(tok, texts)
    tokens = sum(len(tok.encode(t)) for t in texts)
    assert s["tokens"] == tokens
    assert s["words"] == sum(len(t.split()) for t in texts)
    assert s["tokens_per_char"] == round(tokens / sum(len(t) for t in texts), 4)
    assert s["bytes_per_token"] == round(sum(len(t.encode()) for t in texts) / tokens, 4)


def test_aligned_parity(tok: TextTokenizer) -> None:
    en = documents("en", 4)
    parity = aligned_parity(tok, {"en": en, "xx": en, "el": documents("el", 4)})
    assert parity["en"] == 1.0 and parity["xx"] == 1.0
    expected = sum(
        len(tok.encode(g)) / len(tok.encode(e)) for g, e in zip(documents("el", 4), en, strict=True)
    )
    assert parity["el"] == round(expected / 4, 4)
    with pytest.raises(ValueError, match="aligned lines"):
        aligned_parity(tok, {"en": en, "de": en[:2]})


def test_proxy_parity_and_summary() -> None:
    stats = {
        "en": {"tokens": 100, "bytes": 400},
        "de": {"tokens": 150, "bytes": 400},
        "el": {"tokens": 200, "bytes": 1000},
    }
    parity = proxy_parity(stats)
    assert parity == {"de": 1.5, "el": 0.8, "en": 1.0}
    summary = summarize(parity)
    assert summary["worst"] == {"lang": "de", "parity": 1.5}
    assert summary["best"] == {"lang": "el", "parity": 0.8}
    assert summary["mean"] == pytest.approx(1.15)
    assert proxy_parity({"de": {"tokens": 1, "bytes": 1}}) == {}
    chars = {"en": {"tokens": 100, "chars": 400}, "el": {"tokens": 200, "chars": 500}}
    assert proxy_parity(chars, per="chars") == {"el": 1.6, "en": 1.0}


def test_report_prefers_aligned_text(tok: TextTokenizer) -> None:
    texts = {lang: documents(lang, 3) for lang in ("en", "de")}
    proxy = fertility_report(tok, texts)
    assert proxy["parity_kind"] == "tokens_per_char_vs_en"
    stats = proxy["languages"]
    per_char = (stats["de"]["tokens"] / stats["de"]["chars"]) / (
        stats["en"]["tokens"] / stats["en"]["chars"]
    )
    assert proxy["parity"]["de"] == pytest.approx(per_char, abs=1e-4)
    assert proxy["tokens_per_byte_vs_en"]["en"] == 1.0 and "de" in proxy["tokens_per_byte_vs_en"]
    real = fertility_report(tok, texts, aligned=texts, measured_on="test")
    assert real["parity_kind"] == "aligned_sentences"
    assert real["aligned"]["de"]["parity"] == real["parity"]["de"]


def test_tokenizer_stage_outputs(tmp_path: Path) -> None:
    langs = ["bg", "de", "el", "en", "mt"]
    record = run_tokenizer_stage(tmp_path, langs)
    out = tmp_path / "t" / "tokenizer"
    tok = TextTokenizer.from_file(out / "tokenizer.json")
    assert record["vocab_size"] == tok.vocab_size <= 600  # a tiny corpus runs out of merges
    assert record["special_tokens"][:3] == ["<|bos|>", "<|eos|>", "<|pad|>"]
    assert record["languages"] == langs
    fertility = json.loads((out / "fertility.json").read_text())
    assert fertility["parity_kind"] == "tokens_per_char_vs_en"
    assert set(fertility["languages"]) == set(langs)
    assert fertility["languages"]["en"]["parity"] == 1.0
    assert record["worst_parity"]["lang"] in langs and record["worst_parity"]["lang"] != "en"
    assert record["worst_parity"]["parity"] >= record["best_parity"]["parity"]
    # Uniform balance: every language got the same share of the sample.
    shares = set(record["sample_bytes"].values())
    assert max(shares) - min(shares) < 0.01 * max(shares)
