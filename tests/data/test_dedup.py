from __future__ import annotations

import random

import numpy as np
import pytest

from openeurollm.data.dedup.clusters import UnionFind, cluster_sizes, join_equal_keys
from openeurollm.data.dedup.evaluate import jaccard, lsh_pair_recall, near_duplicate
from openeurollm.data.dedup.minhash import MinHasher, band_hashes, shingles
from tests.data.helpers import paragraph

EDIT_WORDS = ["alpha", "beta", "gamma", "delta", "omega"]


def _edit(text: str, rng: random.Random, changes: int) -> str:
    ws = text.split()
    for _ in range(changes):
        ws[rng.randrange(len(ws))] = rng.choice(EDIT_WORDS)
    return " ".join(ws)


def test_shingles_are_casefolded_and_short_texts_get_one() -> None:
    assert np.array_equal(shingles("A b C d E f"), shingles("a B c D e F"))
    assert len(shingles("only three words")) == 1
    assert len(shingles("")) == 0


def test_signature_agreement_estimatesjaccard() -> None:
    rng = random.Random(0)
    hasher = MinHasher(num_perm=256)
    for _ in range(20):
        a = paragraph("en", rng) + " " + paragraph("en", rng)
        b = _edit(a, rng, rng.randint(1, 6))
        sig = hasher.signatures([a, b])
        est = float((sig[0] == sig[1]).mean())
        assert abs(est - jaccard(a, b)) < 0.12


def test_batching_does_not_change_signatures() -> None:
    rng = random.Random(3)
    texts = [paragraph("de", rng) for _ in range(40)] + ["", "kurz"]
    hasher = MinHasher()
    whole = hasher.signatures(texts)
    one_by_one = np.vstack([hasher.signatures([t]) for t in texts])
    assert np.array_equal(whole, one_by_one)
    assert (whole[40] == np.iinfo(np.uint32).max).all()


def test_near_dup_recall_and_precision_on_generated_pairs() -> None:
    """Recall >= 0.95 for pairs with Jaccard >= 0.8; <= 1% of unrelated pairs merged."""
    rng = random.Random(7)
    bands, rows = 14, 8
    originals = [" ".join(paragraph("en", rng) for _ in range(3)) for _ in range(300)]
    # edit word by word down to a Jaccard drawn in [0.8, 1]
    pairs = [near_duplicate(t, rng.uniform(0.8, 1.0), rng, EDIT_WORDS) for t in originals]
    copies, js = [c for c, _ in pairs], [j for _, j in pairs]
    assert min(js) >= 0.8 and np.mean(js) < 0.95  # the hard end of the range is covered
    assert all(
        abs(j - jaccard(o, c)) < 1e-12 for o, c, j in zip(originals, copies, js, strict=True)
    )
    recall, merged = lsh_pair_recall(originals, copies, MinHasher(bands * rows), bands, rows)
    assert recall >= 0.95
    assert merged <= 0.01  # distinct originals that landed in one cluster


def test_union_find_keeps_smallest_index() -> None:
    uf = UnionFind(6)
    keys = np.array([5, 1, 5, 2, 1, 5], dtype=np.uint64)
    assert join_equal_keys(uf, keys) == 3
    roots = uf.roots()
    assert roots.tolist() == [0, 1, 0, 3, 1, 0]
    assert cluster_sizes(roots) == [3, 2]
    uf2 = UnionFind(6)
    join_equal_keys(uf2, keys, active=np.array([False, True, True, True, True, True]))
    assert uf2.roots().tolist() == [0, 1, 2, 3, 1, 2]


def test_band_hash_needs_enough_permutations() -> None:
    with pytest.raises(ValueError, match="bands x rows"):
        band_hashes(np.zeros((1, 10), dtype=np.uint32), 14, 8)
