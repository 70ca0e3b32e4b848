"""The tokenizer's training sample: how many bytes of each language, streamed without holding them.

A language's share follows the recipe's `balance` (natural: its size; temperature: size^(1/T);
uniform: equal), optionally multiplied by per-language weights (the parity rounds raise the
weight of languages that come out worst). Shares are filled by water-filling: a language never
gets more than `max_bytes_per_language` nor more than `MAX_EPOCHS` passes over its text, and
what it cannot take goes to the others. The total is the natural total (each language capped).

Documents are chosen by a hash of their text, not by position or a random generator, so the
same input always gives the same sample whatever order the files are read in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping

# A text source can be read more than once (the sizing pass, then the sample itself).
TextSource = Callable[[], Iterable[str]]

MAX_EPOCHS = 4.0


def language_shares(
    sizes: Mapping[str, int], balance: str, temperature: float = 3.0
) -> dict[str, float]:
    """Relative weight of each language before caps: natural, temperature or uniform."""
    if balance == "natural":
        raw = {lang: float(n) for lang, n in sizes.items()}
    elif balance == "temperature":
        raw = {lang: float(n) ** (1.0 / temperature) for lang, n in sizes.items()}
    elif balance == "uniform":
        raw = {lang: 1.0 for lang in sizes}
    else:
        raise ValueError(f"unknown balance {balance!r} (allowed: natural, temperature, uniform)")
    return {lang: (w if sizes[lang] > 0 else 0.0) for lang, w in sorted(raw.items())}


def byte_budgets(
    sizes: Mapping[str, int],
    shares: Mapping[str, float],
    max_bytes_per_language: int,
    max_epochs: float = MAX_EPOCHS,
) -> dict[str, float]:
    """Bytes per language: proportional to `shares`, capped, leftover redistributed."""
    caps = {lang: min(float(max_bytes_per_language), n * max_epochs) for lang, n in sizes.items()}
    total = float(sum(min(n, max_bytes_per_language) for n in sizes.values()))
    out = {lang: 0.0 for lang in sizes}
    active = [lang for lang in sizes if shares.get(lang, 0.0) > 0 and caps[lang] > 0]
    # Languages whose cap binds soonest (relative to their share) are settled first.
    active.sort(key=lambda lang: (caps[lang] / shares[lang], lang))
    remaining = total
    weight_left = sum(shares[lang] for lang in active)
    for lang in active:
        give = remaining * shares[lang] / weight_left if weight_left > 0 else 0.0
        out[lang] = min(give, caps[lang])
        remaining -= out[lang]
        weight_left -= shares[lang]
    return dict(sorted(out.items()))


def _unit(text: str, salt: str) -> float:
    """A deterministic number in [0, 1) per text."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8, person=salt.encode()[:16])
    return int.from_bytes(digest.digest(), "big") / 2**64


def repeats(text: str, epochs: float, salt: str) -> int:
    """How many times a text enters the sample when its language is read `epochs` times."""
    whole = int(epochs)
    return whole + (1 if _unit(text, salt) < epochs - whole else 0)


def measure_sizes(sources: Mapping[str, TextSource]) -> dict[str, int]:
    """UTF-8 bytes per language (one streaming pass)."""
    return {
        lang: sum(len(t.encode("utf-8")) for t in source())
        for lang, source in sorted(sources.items())
    }


def sample_texts(
    sources: Mapping[str, TextSource],
    epochs: Mapping[str, float],
    salt: str = "tokenizer",
) -> Iterator[str]:
    """Stream the sample: every text of each language, repeated by its language's epochs."""
    for lang in sorted(sources):
        e = epochs.get(lang, 0.0)
        if e <= 0:
            continue
        for text in sources[lang]():
            for _ in range(repeats(text, e, f"{salt}:{lang}")):
                yield text
