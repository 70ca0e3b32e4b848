"""Exact and near-duplicate clusters over all shards in one process.

The reference the task-parallel dedup (`openeurollm.data.dedup.tasks`) is tested
against and benchmarked beside: it holds every document's id, exact hash and band
hashes at once, which is the memory wall this module documents.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from openeurollm.data.dedup.clusters import UnionFind, cluster_sizes, join_equal_keys


def global_dedup(sig_paths: list[Path], exact: bool, near: bool, bands: int) -> dict[str, Any]:
    """Clusters over all shards at once.

    Memory: ids, the exact hashes, then the band hashes (8 bytes per band per document),
    never the documents or whole signatures.
    Rows are addressed by (shard, row) and not by id: exact copies share their content id.
    Returns {"stats": ..., "drops": {shard index: {reason: [row numbers]}}}.
    """
    tables = [pq.read_table(p, columns=["id", "exact"]) for p in sig_paths]
    n = sum(t.num_rows for t in tables)
    stats: dict[str, Any] = {"docs": n}
    drops: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    if n == 0:
        return {"stats": stats, "drops": drops}
    shard_of = np.concatenate(
        [np.full(t.num_rows, i, dtype=np.int32) for i, t in enumerate(tables)]
    )
    row_of = np.concatenate([np.arange(t.num_rows, dtype=np.int64) for t in tables])
    ids = np.array([x for t in tables for x in t.column("id").to_pylist()], dtype=object)
    # Rows sorted by id (ties: shard, row): a cluster's union-find root is its smallest id.
    order = np.argsort(ids, kind="stable")
    shard_of, row_of = shard_of[order], row_of[order]
    reason = np.full(n, "", dtype=object)
    alive = np.ones(n, dtype=bool)
    if exact:
        keys = np.array(
            [int(x[:16], 16) for t in tables for x in t.column("exact").to_pylist()],
            dtype=np.uint64,
        )[order]
        uf = UnionFind(n)
        join_equal_keys(uf, keys)
        roots = uf.roots()
        dup = roots != np.arange(n)
        reason[dup] = "dedup_exact"
        alive &= ~dup
        sizes = cluster_sizes(roots)
        stats["exact"] = {
            "clusters": len(sizes),
            "removed": int(dup.sum()),
            "largest": sizes[0] if sizes else 0,
        }
    del tables
    if near:
        uf = UnionFind(n)
        edges = 0
        names = [f"band{b}" for b in range(bands)]
        band_keys = np.concatenate(
            [
                np.column_stack([t.column(c).to_numpy() for c in names])
                for t in (pq.read_table(p, columns=names) for p in sig_paths)
            ]
        )[order]
        for b in range(bands):
            edges += join_equal_keys(uf, band_keys[:, b], active=alive)
        del band_keys
        roots = uf.roots()
        dup = alive & (roots != np.arange(n))
        reason[dup] = "dedup_near"
        sizes = cluster_sizes(roots[alive])
        alive &= ~dup
        stats["near"] = {
            "clusters": len(sizes),
            "removed": int(dup.sum()),
            "largest": sizes[0] if sizes else 0,
            "bucket_pairs": edges,
        }
    for i in np.flatnonzero(reason != ""):
        drops[int(shard_of[i])][str(reason[i])].append(int(row_of[i]))
    return {"stats": stats, "drops": drops}
