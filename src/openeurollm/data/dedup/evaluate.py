"""How well a MinHash-LSH setting finds near duplicates: pairs made at a known similarity,
then the recall on them and the share of unrelated documents merged.

The dedup test and the curate benchmark measure with this; so can a user who changes
`curate.dedup` bands and rows for their own data.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from openeurollm.data.dedup.clusters import UnionFind, join_equal_keys
from openeurollm.data.dedup.minhash import MinHasher, band_hashes, shingles


def jaccard(a: str, b: str, ngram: int = 5) -> float:
    """Exact Jaccard similarity of the two texts' word n-gram sets (what MinHash estimates)."""
    sa, sb = set(shingles(a, ngram).tolist()), set(shingles(b, ngram).tolist())
    return len(sa & sb) / max(1, len(sa | sb))


def near_duplicate(
    text: str, target: float, rng: random.Random, vocab: Sequence[str], floor: float = 0.8
) -> tuple[str, float]:
    """A copy of `text` with words replaced one at a time (by words of `vocab`) for as long
    as its Jaccard similarity to `text` stays at or above `target`; tried again until the
    result is at least `floor`. Returns the copy and its exact similarity."""
    while True:
        current, similarity = text, 1.0
        while True:
            words = current.split()
            words[rng.randrange(len(words))] = rng.choice(vocab)
            edited = " ".join(words)
            j = jaccard(text, edited)
            if j < target:
                break
            current, similarity = edited, j
        if similarity >= floor:
            return current, similarity


def lsh_pair_recall(
    originals: Sequence[str], copies: Sequence[str], hasher: MinHasher, bands: int, rows: int
) -> tuple[float, float]:
    """Cluster originals and copies by LSH band collisions, as the curate stage does.
    Returns (share of pairs whose copy joined its original, share of pairs of distinct
    originals that ended up in one cluster)."""
    n = len(originals)
    keys = band_hashes(hasher.signatures([*originals, *copies]), bands, rows)
    uf = UnionFind(2 * n)
    for b in range(bands):
        join_equal_keys(uf, keys[:, b])
    roots = uf.roots()
    recall = float(np.mean(roots[:n] == roots[n:]))
    _, sizes = np.unique(roots[:n], return_counts=True)
    merged = float(sum(int(s) * (int(s) - 1) // 2 for s in sizes) / max(1, n * (n - 1) // 2))
    return recall, merged
