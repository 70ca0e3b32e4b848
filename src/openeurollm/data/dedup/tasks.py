"""Exact and near-duplicate clusters as executor tasks: no task holds every signature.

The work is split the way datatrove's MinHash pipeline splits it:
1. signatures: curate's pass 1 writes, per input shard, each survivor's id, language,
   exact hash and LSH band hashes (`keys/<shard>.parquet`).
2. partition (`partition_task`, one per shard): the shard's exact keys and band keys
   are sorted by key range into one file per band group (and one for the exact keys),
   so that a later task reads only its own range of every shard.
3. buckets (`bucket_task`, one per band group and key range, and one per key range for
   the exact keys): reads its range of every shard's file and writes the members of
   every bucket that holds more than one document.
4. merge (`merge_task`, one): picks each exact cluster's keeper, joins the bucket
   members that survived exact dedup into near clusters (union-find), and writes per
   shard the rows to drop and every keeper's cluster size.
5. filter: curate's write pass, one task per shard, copies the rows not dropped.

A bucket task holds (documents x bands of its group / key ranges) keys: with key ranges
growing with the shards, its memory stays flat as the corpus grows, and every key is
read once by one task. The merge holds only documents that share a bucket with another.
Every cluster keeps its member with the smallest document id (ties: shard, row), as the
single-process `openeurollm.data.dedup.single` does, so the kept set does not depend on
how the work was split. With `per_language`, buckets are (band, key, language): clusters
never cross languages; the partition files are the same for both scopes.

Documents are addressed as nodes, `shard << 32 | row`. Every task writes its outputs
atomically, so a killed task is simply run again; a missing or damaged intermediate
stops the merge naming the file and the command that redoes the stage.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from openeurollm.data.dedup.clusters import UnionFind, cluster_sizes
from openeurollm.data.dedup.minhash import mix64
from openeurollm.errors import StageError
from openeurollm.io.fileio import atomic_path, write_json

FORCE_HINT = "rerun with: openeurollm run RECIPE --force curate"
_ROW_BITS = np.uint64(32)
_ROW_MASK = np.uint64(0xFFFFFFFF)
PART_DTYPE = np.dtype(
    [("part", "<u4"), ("band", "<u2"), ("lang", "<u4"), ("key", "<u8"), ("row", "<u4")]
)
# weight: how many buckets of the task had exactly this member set (kept once).
MEMBER_DTYPE = np.dtype(
    [("band", "<u2"), ("lang", "<u4"), ("key", "<u8"), ("node", "<u8"), ("weight", "<u2")]
)


def _damaged(path: Path, exc: Exception) -> StageError:
    state = "missing" if not Path(path).exists() else f"damaged ({exc})"
    return StageError(f"dedup intermediate {path} is {state}; {FORCE_HINT}")


def read_columns(path: Path, columns: list[str]) -> pa.Table:
    """Columns of one Parquet intermediate; a missing or damaged file stops with its name."""
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException, KeyError) as exc:
        raise _damaged(path, exc) from None


def load_array(path: Path, dtype: np.dtype, mmap: bool = False) -> np.ndarray:
    """One .npy intermediate of the expected layout, or a StageError naming the file."""
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise _damaged(path, exc) from None
    if array.dtype != dtype or array.ndim != 1:
        raise _damaged(path, ValueError(f"layout {array.dtype}, expected {dtype}"))
    return array


def save_array(path: Path, array: np.ndarray) -> None:
    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def _lang_codes(langs: list[str]) -> np.ndarray:
    """A stable 32-bit code per language name (the same in every task)."""
    uniq, inverse = np.unique(np.array(langs, dtype=object), return_inverse=True)
    codes = [int.from_bytes(hashlib.sha256(str(x).encode()).digest()[:4], "big") for x in uniq]
    return np.array(codes, dtype=np.uint32)[inverse] if len(langs) else np.empty(0, np.uint32)


def _partitioned(keys: np.ndarray, bands: np.ndarray, langs: np.ndarray, parts: int) -> np.ndarray:
    """Rows (one per key) sorted by key range."""
    out = np.empty(len(keys), dtype=PART_DTYPE)
    out["part"] = keys % np.uint64(parts)
    out["band"], out["key"] = bands, keys
    n = len(langs)
    out["lang"] = np.tile(langs, len(keys) // max(n, 1))
    out["row"] = np.tile(np.arange(n, dtype=np.uint32), len(keys) // max(n, 1))
    return out[np.argsort(out["part"], kind="stable")]


def partition_task(
    sig_path: str, parts: int, groups: list[list[int]], exact: bool, out_dir: str
) -> dict[str, Any]:
    """One shard's keys split by key range: `exact.npy` and `group-<g>.npy` in `out_dir`."""
    columns = ["lang"] + (["exact"] if exact else []) + [f"band{b}" for g in groups for b in g]
    table = read_columns(Path(sig_path), columns)
    langs = _lang_codes(table.column("lang").to_pylist())
    n = table.num_rows
    if exact:
        keys = np.array([int(x[:16], 16) for x in table.column("exact").to_pylist()], np.uint64)
        rows = _partitioned(keys, np.zeros(n, np.uint16), langs, parts)
        save_array(Path(out_dir) / "exact.npy", rows)
    for g, bands in enumerate(groups):
        keys = np.concatenate([table.column(f"band{b}").to_numpy() for b in bands])
        band_of = np.repeat(np.array(bands, dtype=np.uint16), n)
        rows = _partitioned(keys.astype(np.uint64), band_of, langs, parts)
        save_array(Path(out_dir) / f"group-{g:03d}.npy", rows)
    return {"docs": n}


def bucket_task(
    part_files: list[str], part: int, per_language: bool, out_path: str
) -> dict[str, Any]:
    """Members of every bucket (band, key[, language]) of range `part` with 2+ documents.

    `part_files[shard]` is that shard's partition file for this band group (or exact)."""
    pieces = []
    for shard, path in enumerate(part_files):
        rows = load_array(Path(path), PART_DTYPE, mmap=True)
        lo, hi = np.searchsorted(rows["part"], [part, part + 1])
        mine = np.array(rows[lo:hi])  # a copy of just this range
        piece = np.empty(len(mine), dtype=MEMBER_DTYPE)
        piece["band"], piece["key"] = mine["band"], mine["key"]
        piece["lang"] = mine["lang"] if per_language else 0
        piece["node"] = (np.uint64(shard) << _ROW_BITS) | mine["row"].astype(np.uint64)
        piece["weight"] = 1
        pieces.append(piece)
        del rows
    found = np.concatenate(pieces) if pieces else np.empty(0, MEMBER_DTYPE)
    # lexsort on the columns: several times faster than sorting the structured rows
    found = found[np.lexsort((found["node"], found["lang"], found["key"], found["band"]))]
    same = _same_bucket(found)
    member = np.zeros(len(found), dtype=bool)
    member[1:] |= same
    member[:-1] |= same
    members = _distinct_buckets(found[member])
    save_array(Path(out_path), members)
    return {"keys": len(found), "members": len(members)}


def _distinct_buckets(rows: np.ndarray) -> np.ndarray:
    """One bucket per distinct member set, weighted by how many buckets had it.

    A document and its copy usually share every band of the group: without this the
    merge would read the same pair once per band. Sets are compared by their size and
    two independent 64-bit sums of mixed node ids (a false match needs a 128-bit
    collision)."""
    if not len(rows):
        return rows
    starts = np.flatnonzero(np.concatenate(([True], ~_same_bucket(rows))))
    sizes = np.diff(np.append(starts, len(rows)))
    with np.errstate(over="ignore"):
        h1 = np.add.reduceat(mix64(rows["node"]), starts)
        h2 = np.add.reduceat(mix64(rows["node"] ^ np.uint64(0x9E3779B97F4A7C15)), starts)
    signature = np.empty(len(starts), dtype=[("n", "<i8"), ("h1", "<u8"), ("h2", "<u8")])
    signature["n"], signature["h1"], signature["h2"] = sizes, h1, h2
    _, first, count = np.unique(signature, return_index=True, return_counts=True)
    keep = np.zeros(len(starts), dtype=bool)
    keep[first] = True
    weight = np.zeros(len(starts), dtype=np.uint16)
    weight[first] = count
    group = np.repeat(np.arange(len(starts)), sizes)
    out = rows[keep[group]]
    out["weight"] = weight[group][keep[group]]
    return out


def _same_bucket(rows: np.ndarray) -> np.ndarray:
    """For consecutive rows i, i+1 of bucket-sorted members: do they share a bucket?"""
    return (
        (rows["band"][1:] == rows["band"][:-1])
        & (rows["key"][1:] == rows["key"][:-1])
        & (rows["lang"][1:] == rows["lang"][:-1])
    )


def _members(paths: list[str]) -> np.ndarray:
    arrays = [load_array(Path(p), MEMBER_DTYPE) for p in paths]
    return np.concatenate(arrays) if arrays else np.empty(0, MEMBER_DTYPE)


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


class _Nodes:
    """Every node that shares a bucket with another, ranked by (document id, node): the
    lowest rank of a cluster is its keeper."""

    def __init__(self, nodes: np.ndarray, sig_paths: list[str]) -> None:
        uniq = np.unique(nodes)
        self.by_rank = uniq[np.lexsort((uniq, _ids_of(uniq, sig_paths)))]
        self._order = np.argsort(self.by_rank)

    def rank(self, nodes: np.ndarray) -> np.ndarray:
        return self._order[np.searchsorted(self.by_rank[self._order], nodes)]


def _exact_clusters(exact: np.ndarray, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """(ranks of dropped copies, rank of each one's keeper, stats) of the exact members."""
    order = np.lexsort((ranks, exact["lang"], exact["key"]))
    rows, r = exact[order], ranks[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = ~((rows["key"][1:] == rows["key"][:-1]) & (rows["lang"][1:] == rows["lang"][:-1]))
    keeper = r[np.maximum.accumulate(np.where(first, np.arange(len(r)), 0))]
    sizes = np.diff(np.append(np.flatnonzero(first), len(r)))
    stats = {
        "clusters": int(first.sum()),
        "removed": int((~first).sum()),
        "largest": int(sizes.max()) if len(sizes) else 0,
    }
    return r[~first], keeper[~first], stats


def merge_task(
    sig_paths: list[str], exact_paths: list[str], bucket_paths: list[str], drop_paths: list[str]
) -> dict[str, Any]:
    """Exact keepers, then near clusters among the survivors; per-shard drop lists.

    Each drop file: {"drop": {reason: [rows]}, "cluster_size": {row: size}} where a
    keeper's cluster size counts every document it stands for (exact and near copies);
    rows not listed are unique (size 1). Returns {"exact": stats, "near": stats}.
    """
    exact, near = _members(exact_paths), _members(bucket_paths)
    nodes = _Nodes(np.concatenate([exact["node"], near["node"]]), sig_paths)
    dead, dead_keeper, exact_stats = _exact_clusters(exact, nodes.rank(exact["node"]))
    n = len(nodes.by_rank)
    alive = np.ones(n, dtype=bool)
    alive[dead] = False
    near_rank = nodes.rank(near["node"])
    keep = alive[near_rank]
    near, near_rank = near[keep], near_rank[keep]
    # Bucket members are contiguous (each bucket lives in one task's sorted file).
    same = np.flatnonzero(_same_bucket(near))
    uf = UnionFind(n)
    for pos in same:
        uf.union(int(near_rank[pos]), int(near_rank[pos + 1]))
    pairs = int(near["weight"][same].sum())  # as if every band's bucket was joined
    roots = uf.roots()
    near_dup = alive & (roots != np.arange(n))
    # A keeper's cluster: its near cluster, each member with its exact copies.
    weight = 1 + np.bincount(dead_keeper, minlength=n)
    size = np.bincount(roots, weights=weight, minlength=n).astype(np.int64)
    keepers = alive & ~near_dup
    drops = {"dedup_exact": nodes.by_rank[dead], "dedup_near": nodes.by_rank[near_dup]}
    _write_drop_files(drops, nodes.by_rank[keepers], size[keepers], drop_paths)
    sizes = cluster_sizes(roots[alive])
    near_stats = {
        "clusters": len(sizes),
        "removed": int(near_dup.sum()),
        "largest": sizes[0] if sizes else 0,
        "bucket_pairs": pairs,
    }
    return {"exact": exact_stats, "near": near_stats}


def _write_drop_files(
    drops: dict[str, np.ndarray], keepers: np.ndarray, sizes: np.ndarray, drop_paths: list[str]
) -> None:
    per_shard: list[dict[str, Any]] = [{"drop": {}, "cluster_size": {}} for _ in drop_paths]
    for reason, nodes in drops.items():
        for node in np.sort(nodes).tolist():
            per_shard[node >> 32]["drop"].setdefault(reason, []).append(node & 0xFFFFFFFF)
    order = np.argsort(keepers)
    for node, size in zip(keepers[order].tolist(), sizes[order].tolist(), strict=True):
        if size > 1:
            per_shard[node >> 32]["cluster_size"][str(node & 0xFFFFFFFF)] = size
    for path, item in zip(drop_paths, per_shard, strict=True):
        write_json(Path(path), item)
