"""How many tokens each language costs: fertility, compression and parity against English.

Per language: tokens per word (whitespace-separated words), tokens per character, bytes per
token. Parity is reported in one of two kinds, named in the output:

- `aligned_sentences`: the same sentences in every language (NTREX-style files); parity of a
  language = mean over sentences of tokens(sentence) / tokens(its English version). This is
  the real measure: 1.0 means the language costs what English costs for the same content.
- `tokens_per_char_vs_en`: no aligned text; tokens per character of the language divided by
  tokens per character of English on unrelated text. Only a proxy (languages differ in
  characters per unit of content too), but one that treats scripts alike, and the measure
  the parity rounds steer on without aligned text. `tokens_per_byte_vs_en`, reported beside
  it, flatters two-byte scripts: Greek and Cyrillic letters take two bytes in UTF-8, so a
  Greek text looks about half as costly per byte as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openeurollm.tokenizer.encoder import TextTokenizer

REFERENCE = "en"


def language_stats(tok: TextTokenizer, texts: Sequence[str]) -> dict[str, float]:
    """Token counts and ratios for one language's texts."""
    tokens = sum(tok.count(list(texts))) if texts else 0
    words = sum(len(t.split()) for t in texts)
    chars = sum(len(t) for t in texts)
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    return {
        "texts": len(texts),
        "words": words,
        "chars": chars,
        "bytes": nbytes,
        "tokens": tokens,
        "tokens_per_word": round(tokens / words, 4) if words else 0.0,
        "tokens_per_char": round(tokens / chars, 4) if chars else 0.0,
        "bytes_per_token": round(nbytes / tokens, 4) if tokens else 0.0,
    }


def aligned_parity(
    tok: TextTokenizer, aligned: Mapping[str, Sequence[str]], reference: str = REFERENCE
) -> dict[str, float]:
    """Mean over aligned sentences of tokens(lang) / tokens(reference)."""
    ref = tok.count(list(aligned[reference]))
    out: dict[str, float] = {}
    for lang in sorted(aligned):
        counts = tok.count(list(aligned[lang]))
        if len(counts) != len(ref):
            raise ValueError(f"{lang}: {len(counts)} aligned lines, {reference} has {len(ref)}")
        ratios = [c / r for c, r in zip(counts, ref, strict=True) if r > 0]
        out[lang] = round(sum(ratios) / len(ratios), 4) if ratios else 0.0
    return out


def proxy_parity(
    stats: Mapping[str, Mapping[str, float]], reference: str = REFERENCE, per: str = "bytes"
) -> dict[str, float]:
    """tokens per byte (or per char) of each language / the same for the reference."""
    ref = stats.get(reference)
    if not ref or not ref["tokens"] or not ref[per]:
        return {}
    ref_rate = ref["tokens"] / ref[per]
    return {
        lang: round((s["tokens"] / s[per]) / ref_rate, 4) if s[per] else 0.0
        for lang, s in sorted(stats.items())
    }


def summarize(parity: Mapping[str, float], reference: str = REFERENCE) -> dict[str, Any]:
    """Worst and best language (reference excluded) and the mean over languages."""
    others = {lang: p for lang, p in parity.items() if lang != reference and p > 0}
    if not others:
        return {"worst": None, "best": None, "mean": None}
    worst = max(others, key=lambda lang: (others[lang], lang))
    best = min(others, key=lambda lang: (others[lang], lang))
    return {
        "worst": {"lang": worst, "parity": others[worst]},
        "best": {"lang": best, "parity": others[best]},
        "mean": round(sum(others.values()) / len(others), 4),
        "worst_best_ratio": round(others[worst] / others[best], 4),
    }


def fertility_report(
    tok: TextTokenizer,
    texts: Mapping[str, Sequence[str]],
    aligned: Mapping[str, Sequence[str]] | None = None,
    measured_on: str = "",
) -> dict[str, Any]:
    """The content of fertility.json: per-language stats, parity of the kind available."""
    stats = {lang: language_stats(tok, texts[lang]) for lang in sorted(texts)}
    report: dict[str, Any] = {"measured_on": measured_on, "reference": REFERENCE}
    if aligned and REFERENCE in aligned:
        parity = aligned_parity(tok, aligned)
        report["parity_kind"] = "aligned_sentences"
        report["aligned_sentences"] = len(aligned[REFERENCE])
        # Fertility on aligned text is comparable across languages: measure it there too.
        report["aligned"] = {lang: language_stats(tok, aligned[lang]) for lang in sorted(aligned)}
    else:
        parity = proxy_parity(stats, per="chars")
        report["parity_kind"] = "tokens_per_char_vs_en" if parity else "none (no English text)"
        # The per-byte view, for comparison with byte-based figures (bits per byte).
        report["tokens_per_byte_vs_en"] = proxy_parity(stats, per="bytes")
    for lang, value in parity.items():
        target = report["aligned"][lang] if "aligned" in report else stats.get(lang)
        if target is not None:
            target["parity"] = value
    report["languages"] = stats
    report["parity"] = parity
    report["summary"] = summarize(parity)
    return report
