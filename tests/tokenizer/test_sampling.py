"""The tokenizer's training sample: language shares, caps, deterministic and streamed selection."""

from __future__ import annotations

import inspect
from collections import Counter

import pytest

from openeurollm.tokenizer.sampling import (
    MAX_EPOCHS,
    byte_budgets,
    language_shares,
    repeats,
    sample_texts,
)

SIZES = {"en": 1000, "de": 400, "mt": 50}


def test_uniform_shares_with_caps_redistribute() -> None:
    shares = language_shares(SIZES, "uniform")
    out = byte_budgets(SIZES, shares, max_bytes_per_language=10_000)
    # Total is the natural total; mt cannot give more than MAX_EPOCHS passes over its text.
    assert out["mt"] == pytest.approx(50 * MAX_EPOCHS)
    assert out["de"] == pytest.approx(out["en"])
    assert sum(out.values()) == pytest.approx(sum(SIZES.values()))


def test_natural_and_temperature_and_byte_cap() -> None:
    natural = byte_budgets(SIZES, language_shares(SIZES, "natural"), 10_000)
    assert natural == pytest.approx({k: float(v) for k, v in SIZES.items()})
    temp = byte_budgets(SIZES, language_shares(SIZES, "temperature", 3.0), 10_000)
    # Flatter than natural: the small language gains, the large one loses.
    assert temp["mt"] > natural["mt"] and temp["en"] < natural["en"]
    capped = byte_budgets(SIZES, language_shares(SIZES, "natural"), 300)
    assert max(capped.values()) <= 300
    with pytest.raises(ValueError, match="unknown balance"):
        language_shares(SIZES, "unimaxx")


def test_weights_move_shares() -> None:
    shares = language_shares(SIZES, "uniform")
    shares["de"] *= 2.0
    out = byte_budgets(SIZES, shares, 10_000)
    assert out["de"] == pytest.approx(2 * out["en"])


def test_repeats_are_deterministic_and_match_epochs() -> None:
    texts = [f"document number {i}" for i in range(4000)]
    assert [repeats(t, 0.25, "s") for t in texts] == [repeats(t, 0.25, "s") for t in texts]
    kept = sum(repeats(t, 0.25, "s") for t in texts)
    assert 800 < kept < 1200
    assert all(repeats(t, 2.0, "s") == 2 for t in texts[:50])


def test_sample_is_streamed() -> None:
    pulled: Counter[str] = Counter()

    def source(lang: str):
        def gen():
            for i in range(10**9):  # far more than could be held in memory
                pulled[lang] += 1
                yield f"{lang} text {i}"

        return gen

    stream = sample_texts({"de": source("de"), "en": source("en")}, {"de": 1.0, "en": 1.0})
    assert inspect.isgenerator(stream)
    first = [next(stream) for _ in range(5)]
    assert first == [f"de text {i}" for i in range(5)]
    assert pulled["de"] == 5 and pulled["en"] == 0
