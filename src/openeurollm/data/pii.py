"""PII masking: e-mail, phone, IBAN (mod 97), IPv4/IPv6, payment cards (Luhn).

Each match becomes a typed placeholder (<EMAIL>, <PHONE>, <IBAN>, <IP>, <CARD>). The
checksum rules keep ordinary numbers (prices, dates, ids) out of the net: a digit run
is a card only if Luhn agrees, an account number an IBAN only if mod 97 is 1.
Kinds run in a fixed order (IBAN and cards before phones, IPs before phones) so a
number is claimed by its most specific type.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable

PLACEHOLDERS = {
    "email": "<EMAIL>",
    "iban": "<IBAN>",
    "card": "<CARD>",
    "ip": "<IP>",
    "phone": "<PHONE>",
}
ORDER = ("email", "iban", "card", "ip", "phone")

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}\b"
)
# Where an IBAN may start: country code and check digits. Its length is fixed per country,
# so a scanner (not a greedy regex) takes exactly that many characters.
_IBAN_START = re.compile(r"\b[A-Z]{2}\d{2}(?= ?[A-Z0-9])")
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\d.]|\.\d)"
)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# International: +CC then groups; national: a leading 0 (trunk prefix) then groups.
# Separators are space, dot, dash, slash or a bracketed area code. A number that continues
# a longer digit run ("3704 0044 0532") is not a phone number.
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d[ .\-/])(?:\+|00)[1-9]\d{0,2}(?:[ .\-/]?\(?\d{1,5}\)?){2,6}(?!\w)"
    r"|(?<![\w+])(?<!\d[ .\-/])(?:\(0\d{0,4}\)|\(0\) ?\d{1,4}|0\d{1,4})(?:[ .\-/]?\d{2,5}){1,5}(?!\w)"
)


_NUMBERISH = re.compile(r"\d[\d \-./()]{5,}\d")
_HEXCOLON = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f:]")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def iban_valid(candidate: str) -> bool:
    s = candidate.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    moved = s[4:] + s[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def luhn_valid(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _ipv6_valid(candidate: str) -> bool:
    if candidate.count(":") < 2 or not any(c.isalnum() for c in candidate):
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _phone_valid(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    # E.164 allows at most 15 digits; fewer than 8 is a short code, a year or a price.
    return 8 <= digits <= 15 and not _DATE.fullmatch(candidate)


_RULES: dict[str, list[tuple[re.Pattern[str], Callable[[str], bool] | None]]] = {
    "email": [(_EMAIL, None)],
    "iban": [],  # scanned by _mask_ibans
    "card": [(_CARD, luhn_valid)],
    "ip": [(_IPV4, None), (_IPV6, _ipv6_valid)],
    "phone": [(_PHONE, _phone_valid)],
}


def _iban_span(text: str, start: int) -> int | None:
    """End of a valid IBAN starting at `start` (spaces allowed between characters), or None."""
    country = text[start : start + 2]
    lengths = [IBAN_LENGTHS[country]] if country in IBAN_LENGTHS else range(34, 14, -1)
    chars: list[str] = []
    ends: list[int] = []  # ends[k] = text index after the (k+1)-th IBAN character
    i = start
    while i < len(text) and len(chars) < 34:
        ch = text[i]
        if ch == " " and i + 1 < len(text) and text[i + 1].isalnum() and chars:
            i += 1
            continue
        if not (ch.isascii() and ch.isalnum()):
            break
        chars.append(ch)
        i += 1
        ends.append(i)
    for n in lengths:
        if n > len(chars):
            continue
        end = ends[n - 1]
        # The IBAN must end at a word boundary, not inside a longer token.
        if end < len(text) and text[end].isalnum():
            continue
        if iban_valid("".join(chars[:n])):
            return end
    return None


def _mask_ibans(text: str, counts: Counter[str]) -> str:
    out: list[str] = []
    pos = 0
    for m in _IBAN_START.finditer(text):
        if m.start() < pos:
            continue
        end = _iban_span(text, m.start())
        if end is not None:
            out.append(text[pos : m.start()])
            out.append(PLACEHOLDERS["iban"])
            counts["iban"] += 1
            pos = end
    out.append(text[pos:])
    return "".join(out)


class PiiMasker:
    def __init__(self, kinds: Iterable[str] = ORDER) -> None:
        wanted = set(kinds)
        unknown = wanted - set(ORDER)
        if unknown:
            raise ValueError(f"unknown PII kind(s) {sorted(unknown)} (known: {', '.join(ORDER)})")
        self.kinds = [k for k in ORDER if k in wanted]

    def mask(self, text: str) -> tuple[str, Counter[str]]:
        """Text with every PII match replaced by its placeholder, and counts per kind."""
        counts: Counter[str] = Counter()
        # Cheap prechecks skip the regexes on text that cannot match them: every IBAN,
        # card, phone number and IPv4 address has a run of 7+ digits and separators.
        numberish = _NUMBERISH.search(text) is not None
        ipv6ish = ":" in text and _HEXCOLON.search(text) is not None
        for kind in self.kinds:
            if kind == "email" and "@" not in text:
                continue
            if kind in ("iban", "card", "phone") and not numberish:
                continue
            if kind == "iban":
                text = _mask_ibans(text, counts)
                continue
            for pattern, valid in _RULES[kind]:
                if (pattern is _IPV4 and not numberish) or (pattern is _IPV6 and not ipv6ish):
                    continue
                placeholder = PLACEHOLDERS[kind]

                def sub(m: re.Match[str], valid=valid, kind=kind, placeholder=placeholder) -> str:
                    if valid is not None and not valid(m.group(0)):
                        return m.group(0)
                    counts[kind] += 1
                    return placeholder

                text = pattern.sub(sub, text)
        return text, counts
