"""Generated PII: every valid IBAN and card number is masked, wherever it sits in text."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from openeurollm.data.pii import IBAN_LENGTHS, PiiMasker, iban_valid, luhn_valid

MASKER = PiiMasker()
# Prose around the secret: letters, spaces and sentence punctuation (no digits or '@',
# which could legitimately extend or form another match).
PROSE = st.text(alphabet=string.ascii_letters + " ,.;!?äöüéñ", max_size=40)


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    bban = draw(
        st.text(
            alphabet=string.digits,
            min_size=IBAN_LENGTHS[country] - 4,
            max_size=IBAN_LENGTHS[country] - 4,
        )
    )
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    iban = f"{country}{check:02d}{bban}"
    if draw(st.booleans()):  # printed in groups of four
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


@st.composite
def cards(draw: st.DrawFn) -> str:
    body = draw(st.sampled_from("345")) + draw(
        st.text(alphabet=string.digits, min_size=14, max_size=14)
    )
    for d in "0123456789":
        if luhn_valid(body + d):
            number = body + d
            break
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


@settings(max_examples=150, deadline=None)
@given(ibans(), PROSE, PROSE)
def test_generated_iban_masked(iban: str, before: str, after: str) -> None:
    assert iban_valid(iban)
    masked, counts = MASKER.mask(f"{before} {iban} {after}")
    assert iban not in masked and counts["iban"] == 1


@settings(max_examples=150, deadline=None)
@given(cards(), PROSE, PROSE)
def test_generated_card_masked(card: str, before: str, after: str) -> None:
    masked, counts = MASKER.mask(f"{before} {card} {after}")
    assert card not in masked and counts["card"] == 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_masking_any_text_is_safe_and_idempotent(text: str) -> None:
    masked, counts = MASKER.mask(text)
    again, more = MASKER.mask(masked)
    assert again == masked and not more
    assert sum(masked.count(p) for p in ("<EMAIL>", "<IBAN>", "<CARD>", "<IP>", "<PHONE>")) >= sum(
        counts.values()
    )
