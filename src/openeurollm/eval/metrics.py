"""Metrics with their 95% confidence intervals, stated by method.

- A mean of per-item scores (accuracy, exact match): the analytic standard error
  sqrt(s^2 / n) (s^2 the sample variance, as lm-evaluation-harness reports it) and the
  normal interval mean +- 1.96 SE ("analytic").
- A corpus-level score (chrF++): the percentile interval of 1,000 bootstrap resamples of the
  items ("bootstrap"), seeded, computed from per-item n-gram statistics so a resample costs
  one sum, not a new pass over the text.
- A macro mean over languages (the EU aggregate): the mean of the languages' scores, and an
  interval from their standard errors, assumed independent: SE = sqrt(sum SE_i^2) / k.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

Z95 = 1.959964
BOOTSTRAP_SAMPLES = 1000


def mean_with_ci(values: Sequence[float]) -> dict[str, Any]:
    n = len(values)
    mean = sum(values) / n if n else float("nan")
    if n < 2:
        return {"value": mean, "stderr": None, "ci95": None, "ci_method": "analytic", "n": n}
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    se = math.sqrt(var / n)
    return {"value": mean, "stderr": se, "ci95": [mean - Z95 * se, mean + Z95 * se],
            "ci_method": "analytic", "n": n}  # fmt: skip


_NOT_WORD_OR_SPACE = re.compile(r"[^\w\s]")


def normalize_answer(text: str) -> str:
    """Exact-match normalization: punctuation and symbols removed, lower case, outer
    whitespace stripped. lm-eval's exact_match reproduces it with regexes_to_ignore
    [EXACT_MATCH_REGEXES] and ignore_case (see lm_eval_bridge)."""
    text = _NOT_WORD_OR_SPACE.sub("", text).lower()
    return text.strip()


EXACT_MATCH_REGEXES = [r"[^\w\s]", r"^\s+", r"\s+$"]


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    return [
        float(normalize_answer(p) == normalize_answer(r))
        for p, r in zip(predictions, references, strict=True)
    ]


def chrf_pp_with_ci(
    predictions: Sequence[str], references: Sequence[str], seed: int = 0
) -> dict[str, Any]:
    """Corpus chrF++ (sacrebleu, word_order=2, char_order=6, beta=2) and its bootstrap CI."""
    from sacrebleu.metrics import CHRF

    metric = CHRF(word_order=2)
    score = metric.corpus_score(list(predictions), [list(references)]).score
    n = len(predictions)
    out: dict[str, Any] = {"value": score, "stderr": None, "ci95": None,
                           "ci_method": "bootstrap", "n": n}  # fmt: skip
    if n < 2:
        return out
    # sacrebleu's per-sentence statistics (match counts per n-gram order): a corpus score is
    # computed from their sum, so a bootstrap resample is a sum over sampled rows.
    stats = np.array(
        metric._extract_corpus_statistics(list(predictions), [list(references)]), dtype=np.int64
    )
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(BOOTSTRAP_SAMPLES):
        total = stats[rng.integers(0, n, n)].sum(axis=0)
        samples.append(metric._compute_score_from_stats(total.tolist()).score)
    out["stderr"] = float(np.std(samples, ddof=1))
    out["ci95"] = [float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))]
    return out


def macro_mean_with_ci(per_language: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The unweighted mean over languages of their `value`, with an interval from their
    standard errors (independent languages); None when no language has a score."""
    scored = {k: v for k, v in per_language.items() if v.get("value") is not None}
    if not scored:
        return None
    k = len(scored)
    mean = sum(v["value"] for v in scored.values()) / k
    errors = [v.get("stderr") for v in scored.values()]
    if any(e is None for e in errors):
        return {"value": mean, "stderr": None, "ci95": None, "languages": sorted(scored)}
    se = math.sqrt(sum(e * e for e in errors)) / k  # type: ignore[operator]
    return {"value": mean, "stderr": se, "ci95": [mean - Z95 * se, mean + Z95 * se],
            "ci_method": "analytic over languages", "languages": sorted(scored)}  # fmt: skip
