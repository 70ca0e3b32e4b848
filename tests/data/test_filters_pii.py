from __future__ import annotations

import random
from pathlib import Path

import pytest

from openeurollm.config import FilterSpec, recipe_from_dict
from openeurollm.data.document import Document
from openeurollm.data.filters import FILTERS, build_filters
from openeurollm.data.pii import PiiMasker, iban_valid, luhn_valid
from openeurollm.errors import RecipeError
from tests.data.helpers import paragraph


def _doc(text: str, lang: str = "en") -> Document:
    return Document.new(text, lang=lang)


def test_clean_generated_text_passes_every_filter() -> None:
    filters = [FILTERS.get(n)() for n in FILTERS.names()]
    rng = random.Random(1)
    for lang in ("en", "de", "fr"):
        for _ in range(20):
            doc = _doc(paragraph(lang, rng), lang)
            assert [f.keep(doc) for f in filters] == [True] * len(filters)


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("gopher_quality", "Too short to be a document.", "gopher_too_few_words"),
        ("gopher_repetition", "buy cheap pills " * 30, "gopher_top_2gram"),
        ("gopher_quality", " ".join(["## 1234 5678 ###"] * 30), "gopher_symbols"),
        ("gopher_repetition", "Buy cheap pills now at our shop.\n\n" * 20, "gopher_dup_paragraphs"),
        ("gopher_repetition", "Buy cheap pills now at our shop.\n" * 20, "gopher_dup_lines"),
        (
            "fineweb_lines",
            "Home\nAbout us\nContact\nShop\nLogin\nCart\n" * 3,
            "fineweb_line_punctuation",
        ),
        ("c4_markers", "Lorem ipsum dolor sit amet. " * 10, "c4_lorem_ipsum"),
    ],
)
def test_filter_catches(name: str, text: str, reason: str) -> None:
    assert FILTERS.get(name)().keep(_doc(text)) == reason


def test_few_stop_words_is_language_aware() -> None:
    rng = random.Random(2)
    german = paragraph("de", rng)
    f = FILTERS.get("gopher_quality")()
    assert f.keep(_doc(german, "de")) is True
    # German text under an English label has no English stop words.
    assert f.keep(_doc(german, "en")) == "gopher_few_stop_words"


def test_per_language_params_and_unknown_params() -> None:
    f = FILTERS.get("gopher_quality")(min_words=5, languages={"fi": {"min_words": 80}})
    assert f.params("en")["min_words"] == 5
    assert f.params("fi")["min_words"] == 80
    assert f.params("fi")["max_mean_word_length"] == 13  # built-in Finnish default kept
    with pytest.raises(ValueError, match="unknown parameter"):
        FILTERS.get("gopher_quality")(min_wrods=5)
    assert len(build_filters([FilterSpec(name="fineweb_lines")])) == 1


def test_unknown_filter_name_has_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("", encoding="utf-8")
    data = {
        "ingest": {"inputs": [{"path": "a.jsonl"}]},
        "curate": {"filters": [{"name": "gopher_qualty"}]},
    }
    with pytest.raises(RecipeError, match="did you mean 'gopher_quality'"):
        recipe_from_dict(data, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        (
            "Write to jane.doe+news@mail.example.org today.",
            "email",
            "jane.doe+news@mail.example.org",
        ),
        ("Ring +49 30 1234567 or later.", "phone", "+49 30 1234567"),
        ("Appelez le 06 12 34 56 78 demain.", "phone", "06 12 34 56 78"),
        ("Call +44 (0)20 7946 0958 now.", "phone", "+44 (0)20 7946 0958"),
        ("Tel. 030/1234567 im Büro.", "phone", "030/1234567"),
        ("IBAN DE89 3704 0044 0532 0130 00 bitte.", "iban", "DE89 3704 0044 0532 0130 00"),
        ("Konto NL91ABNA0417164300.", "iban", "NL91ABNA0417164300"),
        ("Card 4111 1111 1111 1111 expires.", "card", "4111 1111 1111 1111"),
        ("Card 5500-0000-0000-0004 ok.", "card", "5500-0000-0000-0004"),
        ("Server 192.168.10.254 is down.", "ip", "192.168.10.254"),
        ("Host 2001:db8::8a2e:370:7334 is up.", "ip", "2001:db8::8a2e:370:7334"),
    ],
)
def test_pii_masked(text: str, kind: str, secret: str) -> None:
    masked, counts = PiiMasker().mask(text)
    assert secret not in masked
    assert counts[kind] == 1 and sum(counts.values()) == 1
    assert (
        f"<{ {'email': 'EMAIL', 'phone': 'PHONE', 'iban': 'IBAN', 'card': 'CARD', 'ip': 'IP'}[kind] }>"
        in masked
    )


@pytest.mark.parametrize(
    "text",
    [
        "In 2023 it cost 1.299,00 euros on 2024-05-01 at 12:30:45.",
        "Seite 12-15, am 01.02.2023, Nummer 3.14159, Version 1.2.3.",
        "Card 4111 1111 1111 1112 fails Luhn.",
        "IBAN DE89 3704 0044 0532 0130 01 fails mod 97.",
        "Population 1 234 567 in 1998; ISBN 978-3-16-148410-0.",
    ],
)
def test_pii_leaves_ordinary_numbers(text: str) -> None:
    masked, counts = PiiMasker().mask(text)
    assert masked == text and not counts


def test_checksums_and_kind_selection() -> None:
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert luhn_valid("4012888888881881") and not luhn_valid("4012888888881882")
    masked, counts = PiiMasker(["email"]).mask("a@b.example and 192.168.0.1")
    assert masked == "<EMAIL> and 192.168.0.1" and counts == {"email": 1}
    two, counts = PiiMasker().mask("ES91 2100 0418 4502 0005 1332 GB82 WEST 1234 5698 7654 32")
    assert two == "<IBAN> <IBAN>" and counts["iban"] == 2
