"""Global duplicate clusters: documents sharing a key (exact hash or an LSH band bucket)
are joined by union-find; each cluster keeps one member by a deterministic rule (the
smallest document id), so the result does not depend on shard order or worker count.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return int(root)

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            # The smaller index becomes the root: with rows sorted by id, roots are keepers.
            if ri < rj:
                self.parent[rj] = ri
            else:
                self.parent[ri] = rj

    def roots(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(len(self.parent))], dtype=np.int64)


def join_equal_keys(uf: UnionFind, keys: np.ndarray, active: np.ndarray | None = None) -> int:
    """Union every pair of rows with the same key (restricted to `active` rows); edges added."""
    rows = np.arange(len(keys)) if active is None else np.flatnonzero(active)
    if len(rows) < 2:
        return 0
    k = keys[rows]
    order = np.argsort(k, kind="stable")
    sorted_keys = k[order]
    same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
    for pos in same:
        uf.union(int(rows[order[pos]]), int(rows[order[pos + 1]]))
    return len(same)


def cluster_sizes(roots: np.ndarray) -> list[int]:
    """Sizes of clusters with more than one member, largest first."""
    _, counts = np.unique(roots, return_counts=True)
    return sorted((int(c) for c in counts if c > 1), reverse=True)


def keepers(roots: Iterable[int]) -> np.ndarray:
    """True for the row that represents its cluster (rows are sorted by document id)."""
    r = np.asarray(list(roots) if not isinstance(roots, np.ndarray) else roots)
    return r == np.arange(len(r))
