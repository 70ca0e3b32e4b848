"""Parity-aware rounds: the reweighting rule, a real improvement on aligned data, the stage."""

from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

import pytest

from openeurollm.tokenizer.encoder import TextTokenizer
from openeurollm.tokenizer.fertility import aligned_parity
from openeurollm.tokenizer.parity import reweight, train_parity_aware

from .corpus import PHRASES, documents, run_tokenizer_stage


def test_reweight_raises_expensive_languages() -> None:
    out = reweight({"en": 1.0, "el": 1.0, "de": 1.0}, {"en": 1.0, "el": 2.0, "de": 1.0}, 1.0)
    assert out["el"] == pytest.approx(2 * out["en"])
    assert sum(out.values()) == pytest.approx(3.0)
    # A language without a measurement keeps its relative weight against the others' mean.
    out = reweight({"en": 1.0, "xx": 1.0}, {"en": 1.0}, 3.0)
    assert out == {"en": 1.0, "xx": 1.0}
    assert reweight({"en": 2.0}, {}, 3.0) == {"en": 2.0}


def test_rounds_improve_parity_on_held_out_sentences(shared_data: Path) -> None:
    langs = ["bg", "da", "de", "el", "en", "fi", "ga", "mt"]

    def lines(lang: str, a: int, b: int) -> list[str]:
        return (shared_data / "ntrex" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()[a:b]

    sources = {lang: partial(lines, lang, 0, 800) for lang in langs}
    dev = {lang: lines(lang, 0, 800) for lang in langs}
    test = {lang: lines(lang, 1200, 1500) for lang in langs}
    result = train_parity_aware(sources, 4000, rounds=2, aligned=dev, min_frequency=2)
    assert [r["round"] for r in result.rounds] == [0, 1, 2]
    assert sum(bool(r.get("chosen")) for r in result.rounds) == 1
    first = result.rounds[0]["costs"]
    chosen = next(r for r in result.rounds if r.get("chosen"))
    assert chosen["round"] > 0  # plain balanced BPE is not the fairest
    # The most expensive language of round 0 got more weight in the chosen round.
    worst = max(first, key=first.get)
    assert chosen["weights"][worst] > chosen["weights"]["en"]
    # And on sentences no round saw, the spread between languages shrank: round 0 (plain
    # balanced BPE, trained again alone) and the chosen round measured on the same sentences.
    plain = train_parity_aware(sources, 4000, rounds=0, aligned=dev, min_frequency=2)
    assert plain.rounds[0]["costs"] == first  # the same tokenizer as round 0 above

    def spread(tokenizer: object) -> float:
        parity = aligned_parity(TextTokenizer(tokenizer), test)
        return max(parity.values()) / min(parity.values())

    assert math.isfinite(spread(result.tokenizer))
    assert spread(result.tokenizer) < spread(plain.tokenizer)


def test_stage_with_aligned_sentences(tmp_path: Path) -> None:
    aligned = tmp_path / "aligned"
    aligned.mkdir()
    for lang in PHRASES:
        lines = [t.replace("\n", " ") for t in documents(lang, 10)]
        (aligned / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    langs = ["de", "el", "en", "mt"]
    record = run_tokenizer_stage(
        tmp_path, langs, aligned_path=str(aligned), aligned_dev_lines=6, parity_rounds=2
    )
    assert record["parity_kind"] == "aligned_sentences"
    assert not record["aligned_overlap"]
    assert len(record["parity_rounds"]) == 3
    assert [r["chosen"] for r in record["parity_rounds"]].count(True) == 1
    report = json.loads((tmp_path / "t" / "tokenizer" / "fertility.json").read_text())
    assert report["aligned_sentences"] == 4  # lines 7-10: the rounds used lines 1-6
    assert set(report["parity"]) == {*langs}  # bg and ga have files but no training data
    assert report["rounds"][0]["cost_kind"] == "aligned_parity"
