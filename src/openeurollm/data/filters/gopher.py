"""Gopher quality and repetition rules (Rae et al. 2021, "Scaling Language Models", App. A)."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from openeurollm.data.document import Document
from openeurollm.data.filters import FILTERS, Filter
from openeurollm.data.text import has_letter, stop_words, words

# En and em dashes are not bullets: they open dialogue lines in much European typography.
_BULLETS = ("•", "●", "○", "▪", "◦", "‣", "-", "*", "·")
_ELLIPSES = ("...", "…")

# Agglutinative and compounding languages have longer words on average; the English limit
# of 10 characters would drop ordinary Finnish or Georgian prose.
_LONG_WORDS = {"max_mean_word_length": 13}


@FILTERS.register("gopher_quality")
class GopherQuality(Filter):
    name = "gopher_quality"
    defaults: ClassVar[dict[str, Any]] = {
        "min_words": 50,
        "max_words": 100_000,
        "min_mean_word_length": 3.0,
        "max_mean_word_length": 10.0,
        "max_symbol_word_ratio": 0.1,
        "max_bullet_lines_ratio": 0.9,
        "max_ellipsis_lines_ratio": 0.3,
        "min_alpha_words_ratio": 0.8,
        "min_stop_words": 2,
    }
    language_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        lang: _LONG_WORDS for lang in ("fi", "et", "hu", "de", "nl", "lt", "lv", "ka", "eu", "is")
    }

    def keep(self, doc: Document) -> bool | str:
        p = self.params(doc.lang)
        ws = words(doc.text)
        n = len(ws)
        if n < p["min_words"]:
            return "gopher_too_few_words"
        if n > p["max_words"]:
            return "gopher_too_many_words"
        mean_len = sum(map(len, ws)) / n
        if mean_len < p["min_mean_word_length"]:
            return "gopher_short_words"
        if mean_len > p["max_mean_word_length"]:
            return "gopher_long_words"
        symbols = doc.text.count("#") + sum(doc.text.count(e) for e in _ELLIPSES)
        if symbols / n > p["max_symbol_word_ratio"]:
            return "gopher_symbols"
        lines = [line.strip() for line in doc.text.splitlines() if line.strip()]
        if lines:
            if (
                sum(line.startswith(_BULLETS) for line in lines) / len(lines)
                > p["max_bullet_lines_ratio"]
            ):
                return "gopher_bullet_lines"
            if (
                sum(line.endswith(_ELLIPSES) for line in lines) / len(lines)
                > p["max_ellipsis_lines_ratio"]
            ):
                return "gopher_ellipsis_lines"
        # Gopher counts whitespace tokens with a letter; our words are letters/digits, so
        # a token of digits only is the "non-alphabetic word".
        if sum(has_letter(w) for w in ws) / n < p["min_alpha_words_ratio"]:
            return "gopher_non_alpha_words"
        stops = stop_words(doc.lang)
        if stops:
            hits = sum(1 for w in ws if w.casefold() in stops)
            if hits < p["min_stop_words"]:
                return "gopher_few_stop_words"
        return True


def _dup_fraction(items: list[str]) -> tuple[float, float]:
    """(fraction of items that repeat an earlier one, fraction of characters in them)."""
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    dup_items = dup_chars = 0
    for item in items:
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    total_chars = sum(map(len, items)) or 1
    return dup_items / len(items), dup_chars / total_chars


def _ngrams(ws: list[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(ws[i:] for i in range(n)), strict=False))  # shorter tails end it


def _top_ngram_fraction(ws: list[str], n: int) -> float:
    """Share of characters covered by the most frequent word n-gram."""
    grams = Counter(_ngrams(ws, n))
    if not grams:
        return 0.0
    gram, count = grams.most_common(1)[0]
    if count <= 1:
        return 0.0
    return sum(map(len, gram)) * count / (sum(map(len, ws)) or 1)


def _dup_ngram_fraction(ws: list[str], n: int) -> float:
    """Share of characters inside word n-grams that occur more than once (no double count)."""
    if len(ws) < n:
        return 0.0
    grams = _ngrams(ws, n)
    if len(set(grams)) == len(grams):  # the common case: nothing repeats
        return 0.0
    first: dict[tuple[str, ...], int] = {}
    covered = [False] * len(ws)
    for i, gram in enumerate(grams):
        if gram in first:
            for j in range(i, i + n):
                covered[j] = True
            start = first[gram]
            for j in range(start, start + n):
                covered[j] = True
        else:
            first[gram] = i
    total = sum(map(len, ws)) or 1
    return sum(len(w) for w, c in zip(ws, covered, strict=True) if c) / total


@FILTERS.register("gopher_repetition")
class GopherRepetition(Filter):
    name = "gopher_repetition"
    defaults: ClassVar[dict[str, Any]] = {
        "max_dup_line_ratio": 0.3,
        "max_dup_para_ratio": 0.3,
        "max_dup_line_char_ratio": 0.2,
        "max_dup_para_char_ratio": 0.2,
        "top_ngram_max": {2: 0.20, 3: 0.18, 4: 0.16},
        "dup_ngram_max": {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
    }

    def keep(self, doc: Document) -> bool | str:
        p = self.params(doc.lang)
        text = doc.text
        paras = [x.strip() for x in text.split("\n\n") if x.strip()]
        ratio, chars = _dup_fraction(paras)
        if ratio > p["max_dup_para_ratio"]:
            return "gopher_dup_paragraphs"
        if chars > p["max_dup_para_char_ratio"]:
            return "gopher_dup_paragraph_chars"
        lines = [x.strip() for x in text.splitlines() if x.strip()]
        ratio, chars = _dup_fraction(lines)
        if ratio > p["max_dup_line_ratio"]:
            return "gopher_dup_lines"
        if chars > p["max_dup_line_char_ratio"]:
            return "gopher_dup_line_chars"
        ws = [w.casefold() for w in words(text)]
        for n, limit in sorted(p["top_ngram_max"].items(), key=lambda kv: int(kv[0])):
            if _top_ngram_fraction(ws, int(n)) > limit:
                return f"gopher_top_{n}gram"
        for n, limit in sorted(p["dup_ngram_max"].items(), key=lambda kv: int(kv[0])):
            fraction = _dup_ngram_fraction(ws, int(n))
            if fraction > limit:
                return f"gopher_dup_{n}gram"
            if fraction == 0.0:  # no repeated n-gram: no longer one repeats either
                break
        return True
