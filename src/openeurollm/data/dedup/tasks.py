"""Exact and near-duplicate clusters as executor tasks: no task holds every signature.

The work is split the way datatrove's MinHash pipeline splits it:
1. signatures: curate's pass 1 writes, per input shard, each survivor's id, language,
   exact hash and LSH band hashes (`keys/<shard>.parquet`).
2. buckets (`bucket_task`): one task per (band group, key range) reads only its bands
   of every shard, keeps the keys in its range and writes the members of every bucket
   that holds more than one document. `exact_task`, one per key range, does the same
   for the exact hashes and picks each exact cluster's keeper.
3. merge (`merge_task`): one task joins the bucket members that survived exact dedup
   into clusters (union-find) and writes, per shard, the rows to drop and every
   keeper's cluster size.
4. filter: curate's write pass, one task per shard, copies the rows not dropped.

A bucket task holds (documents x bands of its group / key ranges) keys, plus one shard's
columns while it reads them: with key ranges growing with the shards, its memory stays
flat as the corpus grows. The merge holds only documents that share a bucket or an
exact hash with another. Every cluster keeps its member with the smallest document id
(ties: shard, row), as the single-process `openeurollm.data.dedup.single` does, so the
kept set does not depend on how the work was split.

Documents are addressed as nodes, `shard << 32 | row`. Every task writes its one output
atomically, so a killed task is simply run again; a missing or damaged intermediate
stops the merge naming the file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from openeurollm.data.dedup.clusters import UnionFind, cluster_sizes
from openeurollm.data.dedup.minhash import _mix
from openeurollm.errors import StageError
from openeurollm.io.fileio import atomic_path, write_json

_ROW_BITS = np.uint64(32)
_ROW_MASK = np.uint64(0xFFFFFFFF)
FORCE_HINT = "rerun with: openeurollm run RECIPE --force curate"


def read_columns(path: Path, columns: list[str]) -> pa.Table:
    """Columns of one intermediate file; a missing or damaged file stops with its name."""
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException, KeyError) as exc:
        state = "missing" if not Path(path).exists() else f"damaged ({exc})"
        raise StageError(f"dedup intermediate {path} is {state}; {FORCE_HINT}") from None


def _scoped(keys: np.ndarray, langs: pa.ChunkedArray | None) -> np.ndarray:
    """Keys salted by language when dedup is per language: buckets never cross languages."""
    if langs is None:
        return keys
    names = langs.to_numpy(zero_copy_only=False)
    uniq, inverse = np.unique(names, return_inverse=True)
    salts = np.array(
        [int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big") for s in uniq],
        dtype=np.uint64,
    )
    return _mix(keys ^ salts[inverse])


def _in_range(keys: np.ndarray, part: int, parts: int) -> np.ndarray:
    return keys % np.uint64(parts) == np.uint64(part)


def _nodes(shard: int, rows: np.ndarray) -> np.ndarray:
    return (np.uint64(shard) << _ROW_BITS) | rows.astype(np.uint64)


def _ids_of(nodes: np.ndarray, sig_paths: list[str]) -> np.ndarray:
    """Document ids of the given nodes, read one shard's id column at a time."""
    ids = np.empty(len(nodes), dtype=object)
    shards = (nodes >> _ROW_BITS).astype(np.int64)
    for shard in np.unique(shards):
        mine = np.flatnonzero(shards == shard)
        column = read_columns(Path(sig_paths[shard]), ["id"]).column("id")
        rows = (nodes[mine] & _ROW_MASK).astype(np.int64)
        ids[mine] = column.take(pa.array(rows)).to_numpy(zero_copy_only=False)
    return ids


def _by_id(nodes: np.ndarray, sig_paths: list[str]) -> np.ndarray:
    """Nodes ordered by (document id, node): the first of a cluster is its keeper."""
    ids = _ids_of(nodes, sig_paths)
    return nodes[np.lexsort((nodes, ids))]


def _write(path: str, columns: dict[str, np.ndarray]) -> None:
    with atomic_path(Path(path)) as tmp:
        pq.write_table(pa.table(columns), tmp, compression="zstd")


def _shared_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order of rows sorted by key, and a mask (in that order) of rows whose key repeats."""
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    same = k[1:] == k[:-1]
    member = np.zeros(len(k), dtype=bool)
    member[1:] |= same
    member[:-1] |= same
    return order, member


def exact_task(
    sig_paths: list[str], part: int, parts: int, per_language: bool, out_path: str
) -> dict[str, Any]:
    """Exact clusters among keys in range `part`: writes (dropped node, its keeper node)."""
    keys, nodes = [], []
    for shard, path in enumerate(sig_paths):
        table = read_columns(Path(path), ["exact", "lang"] if per_language else ["exact"])
        raw = np.array([int(x[:16], 16) for x in table.column("exact").to_pylist()], np.uint64)
        k = _scoped(raw, table.column("lang") if per_language else None)
        rows = np.flatnonzero(_in_range(k, part, parts))
        keys.append(k[rows])
        nodes.append(_nodes(shard, rows))
    key, node = np.concatenate(keys), np.concatenate(nodes)
    order, member = _shared_groups(key)
    key, node = key[order][member], node[order][member]
    # Keeper = the member with the smallest id (ties: node): sort by (key, id, node).
    order = np.lexsort((node, _ids_of(node, sig_paths), key))
    key, node = key[order], node[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    keeper = node[np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))]
    _write(out_path, {"node": node[~first], "keeper": keeper[~first]})
    sizes = np.diff(np.append(np.flatnonzero(first), len(key)))
    return {
        "clusters": int(first.sum()),
        "removed": int((~first).sum()),
        "largest": int(sizes.max()) if len(sizes) else 0,
    }


def bucket_task(
    sig_paths: list[str],
    bands: list[int],
    part: int,
    parts: int,
    per_language: bool,
    out_path: str,
) -> dict[str, Any]:
    """Members of every LSH bucket (of `bands`, keys in range `part`) holding 2+ documents."""
    band_of, keys, nodes = [], [], []
    columns = [f"band{b}" for b in bands]
    for shard, path in enumerate(sig_paths):
        table = read_columns(Path(path), columns + (["lang"] if per_language else []))
        langs = table.column("lang") if per_language else None
        for b, name in zip(bands, columns, strict=True):
            k = _scoped(table.column(name).to_numpy(), langs)
            rows = np.flatnonzero(_in_range(k, part, parts))
            band_of.append(np.full(len(rows), b, dtype=np.uint16))
            keys.append(k[rows])
            nodes.append(_nodes(shard, rows))
        del table
    band, key, node = np.concatenate(band_of), np.concatenate(keys), np.concatenate(nodes)
    # One sort key per (band, key) bucket: the band in the top bits cannot collide across
    # bands within this task because the key is compared too (lexsort below).
    order = np.lexsort((node, key, band))
    band, key, node = band[order], key[order], node[order]
    same = (band[1:] == band[:-1]) & (key[1:] == key[:-1])
    member = np.zeros(len(key), dtype=bool)
    member[1:] |= same
    member[:-1] |= same
    _write(out_path, {"band": band[member], "key": key[member], "node": node[member]})
    return {"keys": len(key), "members": int(member.sum())}


def _exact_drops(exact_paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(dropped nodes, their keepers) of every exact task."""
    tables = [read_columns(Path(p), ["node", "keeper"]) for p in exact_paths]
    if not tables:
        return np.empty(0, np.uint64), np.empty(0, np.uint64)
    return (
        np.concatenate([t.column("node").to_numpy() for t in tables]),
        np.concatenate([t.column("keeper").to_numpy() for t in tables]),
    )


def _near_clusters(
    bucket_paths: list[str], dead: np.ndarray, sig_paths: list[str]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Nodes in id order, their union-find roots (indices into that order), bucket pairs."""
    tables = [read_columns(Path(p), ["band", "key", "node"]) for p in bucket_paths]
    none = [np.empty(0, dtype=np.uint64)]
    band = np.concatenate([t.column("band").to_numpy() for t in tables] or none)
    key = np.concatenate([t.column("key").to_numpy() for t in tables] or none)
    node = np.concatenate([t.column("node").to_numpy() for t in tables] or none)
    del tables
    alive = ~np.isin(node, dead)
    band, key, node = band[alive], key[alive], node[alive]
    ordered = _by_id(np.unique(node), sig_paths)
    by_node = np.argsort(ordered)
    dense = by_node[np.searchsorted(ordered[by_node], node)]  # index into `ordered`
    # Bucket members are contiguous (each bucket lives in one task's sorted file).
    same = np.flatnonzero((band[1:] == band[:-1]) & (key[1:] == key[:-1]))
    uf = UnionFind(len(ordered))
    for pos in same:
        uf.union(int(dense[pos]), int(dense[pos + 1]))
    return ordered, uf.roots(), len(same)


def merge_task(
    sig_paths: list[str], exact_paths: list[str], bucket_paths: list[str], drop_paths: list[str]
) -> dict[str, Any]:
    """Near clusters from bucket members that survived exact dedup; per-shard drop lists.

    Each drop file: {"drop": {reason: [rows]}, "cluster_size": {row: size}} where a
    keeper's cluster size counts every document it stands for (exact and near copies);
    rows not listed are unique (size 1).
    """
    exact_node, exact_keeper = _exact_drops(exact_paths)
    ordered, roots, pairs = _near_clusters(bucket_paths, np.sort(exact_node), sig_paths)
    is_near_dup = roots != np.arange(len(ordered))
    # Weight of a surviving node: itself plus its exact copies.
    keepers, copies = np.unique(exact_keeper, return_counts=True)
    weight = np.ones(len(ordered), dtype=np.int64)
    at = np.searchsorted(keepers, ordered)
    hit = (at < len(keepers)) & (keepers[np.minimum(at, len(keepers) - 1)] == ordered)
    weight[hit] += copies[at[hit]]
    near_size = np.bincount(roots, weights=weight, minlength=len(ordered)).astype(np.int64)
    size_of = dict(zip(keepers.tolist(), (copies + 1).tolist(), strict=True))
    kept = ~is_near_dup
    size_of.update(zip(ordered[kept].tolist(), near_size[kept].tolist(), strict=True))
    for node in ordered[is_near_dup].tolist():  # an exact keeper that is a near copy
        size_of.pop(node, None)
    drops: dict[str, list[int]] = {
        "dedup_exact": exact_node.tolist(),
        "dedup_near": ordered[is_near_dup].tolist(),
    }
    _write_drop_files(drops, size_of, drop_paths)
    sizes = cluster_sizes(roots)
    return {
        "clusters": len(sizes),
        "removed": int(is_near_dup.sum()),
        "largest": sizes[0] if sizes else 0,
        "bucket_pairs": pairs,
    }


def _write_drop_files(
    drops: dict[str, list[int]], size_of: dict[int, int], drop_paths: list[str]
) -> None:
    per_shard: list[dict[str, Any]] = [
        {"drop": {r: [] for r in drops}, "cluster_size": {}} for _ in drop_paths
    ]
    for reason, nodes in drops.items():
        for n in nodes:
            per_shard[n >> 32]["drop"][reason].append(n & 0xFFFFFFFF)
    for n, size in sorted(size_of.items()):
        if size > 1:
            per_shard[n >> 32]["cluster_size"][str(n & 0xFFFFFFFF)] = int(size)
    for path, item in zip(drop_paths, per_shard, strict=True):
        item["drop"] = {r: sorted(rows) for r, rows in item["drop"].items() if rows}
        write_json(Path(path), item)
