"""normalize_for_hash (exact dedup, membership index) is a regex pass; it must give exactly
what the per-character definition gives, for every kind of character."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from openeurollm.data.document import normalize_for_hash


def _by_definition(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    kept = [ch if (ch.isalnum() or ch.isspace()) else " " for ch in text]
    return " ".join("".join(kept).split())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_regex_normalization_equals_the_definition(text: str) -> None:
    assert normalize_for_hash(text) == _by_definition(text)


def test_every_code_point_class_agrees() -> None:
    # Every BMP code point once (but surrogates, which no decoded text holds); the
    # property test above draws from the other planes too.
    text = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF)
    assert normalize_for_hash(text) == _by_definition(text)
    assert normalize_for_hash("Ünïcode_snake-case, ok!") == "ünïcode snake case ok"
