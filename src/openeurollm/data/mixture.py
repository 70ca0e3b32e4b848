"""Per-language budgets: natural, temperature sampling, and UniMax (Chung et al., 2023).

UniMax gives every language the same share of the budget, but never more than
`max_epochs` passes over its data; what a small language cannot use is spread over the
others. Temperature sampling sets p_lang proportional to n_lang^(1/T).
"""

from __future__ import annotations


def unimax(sizes: dict[str, int], budget: int, max_epochs: float) -> dict[str, float]:
    """Bytes per language: uniform shares, capped at max_epochs * size, leftover redistributed."""
    out: dict[str, float] = {}
    remaining = float(budget)
    # Smallest languages first: if they hit their cap, their leftover goes to the rest.
    order = sorted(sizes, key=lambda lang: (sizes[lang], lang))
    for i, lang in enumerate(order):
        share = remaining / (len(order) - i)
        out[lang] = min(share, sizes[lang] * max_epochs)
        remaining -= out[lang]
    return {lang: out[lang] for lang in sorted(out)}


def temperature(
    sizes: dict[str, int], budget: int, temp: float, max_epochs: float
) -> dict[str, float]:
    """Bytes per language from p ~ n^(1/T), capped at max_epochs * size (cap not redistributed)."""
    weights = {lang: n ** (1.0 / temp) for lang, n in sizes.items() if n > 0}
    total = sum(weights.values()) or 1.0
    return {
        lang: min(budget * weights.get(lang, 0.0) / total, sizes[lang] * max_epochs)
        for lang in sorted(sizes)
    }


def budgets(
    sizes: dict[str, int], strategy: str, total: int | None, temp: float, max_epochs: float
) -> dict[str, float]:
    budget = total if total is not None else sum(sizes.values())
    if strategy == "natural":
        return {lang: float(n) for lang, n in sorted(sizes.items())}
    if strategy == "unimax":
        return unimax(sizes, budget, max_epochs)
    if strategy == "temperature":
        return temperature(sizes, budget, temp, max_epochs)
    raise ValueError(f"unknown mixing strategy {strategy!r}")


def rehydration_weight(cluster_size: int, weights: dict[int, float] | None) -> float:
    """A document's weight from its duplicate-cluster size: the weight of the largest
    key not above the size (FineWeb-2-style rehydration); 1.0 when weights are None."""
    if not weights:
        return 1.0
    return weights[max(k for k in weights if k <= max(cluster_size, 1))]
