"""Parity-aware training: reweight languages by their measured cost between training rounds.

Balancing bytes is not enough for parity. Greek and Bulgarian spend two UTF-8 bytes per
letter, so an equal byte share gives them half the words; morphologically rich languages
need more merges for the same coverage. So we train, measure what each language costs on a
development set, multiply each language's sampling weight by (cost / mean cost) ** exponent,
and train again. Languages that come out expensive get a larger share of the next sample
(and so more merges); cheap ones (usually English) a smaller one. After the last round we
keep the round whose worst development parity is lowest (then the lowest mean), so adding a
round never makes the result worse on the development set.

The cost of a language is its parity on aligned development sentences when they are given
(tokens of a sentence / tokens of its English version, averaged); without aligned text it
is tokens per character on held-out text, a proxy that, unlike tokens per byte, does not
flatter two-byte scripts. This is the "reweighting between rounds" variant of parity-aware
tokenization; Foroutan et al. (2025) instead pick, at every merge, the most frequent pair of
the currently worst language, which needs a BPE trainer of our own.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from openeurollm.tokenizer.encoder import TextTokenizer
from openeurollm.tokenizer.fertility import REFERENCE, aligned_parity, language_stats, summarize
from openeurollm.tokenizer.sampling import TextSource
from openeurollm.tokenizer.train import TrainResult, train_tokenizer

log = logging.getLogger("openeurollm")


def language_costs(
    tok: TextTokenizer,
    aligned: Mapping[str, Sequence[str]] | None,
    texts: Mapping[str, Sequence[str]] | None,
) -> tuple[str, dict[str, float]]:
    """(kind, cost per language): aligned parity if available, else tokens per character."""
    if aligned and REFERENCE in aligned:
        return "aligned_parity", aligned_parity(tok, aligned)
    costs = {
        lang: language_stats(tok, list(items))["tokens_per_char"]
        for lang, items in sorted((texts or {}).items())
        if items
    }
    return "tokens_per_char", costs


def reweight(
    weights: Mapping[str, float], costs: Mapping[str, float], exponent: float
) -> dict[str, float]:
    """Multiply each weight by (cost / geometric-mean cost) ** exponent; mean weight 1."""
    measured = {lang: c for lang, c in costs.items() if c > 0 and lang in weights}
    if not measured:
        return dict(weights)
    center = math.exp(sum(math.log(c) for c in measured.values()) / len(measured))
    new = {
        lang: w * ((measured[lang] / center) ** exponent if lang in measured else 1.0)
        for lang, w in weights.items()
    }
    mean = sum(new.values()) / len(new)
    return {lang: w / mean for lang, w in sorted(new.items())}


def _score(costs: Mapping[str, float]) -> tuple[float, float]:
    """Worst, then mean cost relative to the cheapest language (lower is fairer)."""
    values = [c for c in costs.values() if c > 0]
    if not values:
        return (0.0, 0.0)
    low = min(values)
    return (max(values) / low, sum(values) / len(values) / low)


def train_parity_aware(
    sources: Mapping[str, TextSource],
    vocab_size: int,
    *,
    rounds: int,
    exponent: float = 3.0,
    aligned: Mapping[str, Sequence[str]] | None = None,
    texts: Mapping[str, Sequence[str]] | None = None,
    **train_kwargs: Any,
) -> TrainResult:
    """Train `rounds + 1` times, reweighting languages by cost; return the fairest round."""
    weights = {lang: 1.0 for lang in sorted(sources)}
    best: TrainResult | None = None
    best_round = 0
    best_score: tuple[float, float] | None = None
    history: list[dict[str, Any]] = []
    for rnd in range(rounds + 1):
        result = train_tokenizer(sources, vocab_size, weights=weights, **train_kwargs)
        kind, costs = language_costs(TextTokenizer(result.tokenizer), aligned, texts)
        score = _score(costs)
        entry: dict[str, Any] = {
            "round": rnd,
            "cost_kind": kind,
            "weights": {lang: round(w, 4) for lang, w in weights.items()},
            "costs": costs,
            "worst_over_best": round(score[0], 4),
        }
        if kind == "aligned_parity":
            entry["summary"] = summarize(costs)
        history.append(entry)
        log.info("tokenizer round %d: %s worst/best %.3f, mean/best %.3f", rnd, kind, *score)
        if best_score is None or score < best_score:
            best, best_score, best_round = result, score, rnd
        if not costs:
            break  # nothing to measure against: more rounds would repeat the first
        weights = reweight(weights, costs, exponent)
    assert best is not None
    history[best_round]["chosen"] = True
    best.rounds = history
    return best
