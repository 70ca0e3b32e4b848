"""The curate stage's dedup as executor tasks (see openeurollm.data.dedup.tasks):
exact and bucket tasks together, then one merge task; each pass has its own task folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from openeurollm.config import DedupConfig
from openeurollm.pipeline.stage import StageContext
from openeurollm.pipeline.tasks import Task, run_tasks

_FN = "openeurollm.data.dedup.tasks:"


def light_context(ctx: StageContext, folder: Path) -> StageContext:
    """A context whose tasks live in `folder`. Light passes run in this process on a local
    run rather than starting a worker pool; a cluster run spreads them like pass 1."""
    recipe = ctx.recipe
    if recipe.executor.kind == "local":
        recipe = recipe.model_copy(
            update={"executor": recipe.executor.model_copy(update={"workers": 1})}
        )
    return dataclasses.replace(ctx, out=folder, recipe=recipe)


def band_groups(bands: int, groups: int) -> list[list[int]]:
    """Bands split into up to `groups` contiguous, nearly equal groups."""
    return [g.tolist() for g in np.array_split(np.arange(bands), min(groups, bands))]


def dedup_tasks(
    cfg: DedupConfig, sig_paths: list[str], folder: Path
) -> tuple[list[Task], list[str], list[str]]:
    """The exact and bucket tasks, and the files they write (exact, buckets)."""
    parts = cfg.key_ranges or max(1, len(sig_paths))
    common = {"sig_paths": sig_paths, "parts": parts, "per_language": cfg.scope == "language"}
    tasks, exact_paths, bucket_paths = [], [], []
    for part in range(parts) if cfg.exact else ():
        out = str(folder / "exact" / f"{part:05d}.parquet")
        exact_paths.append(out)
        args = {**common, "part": part, "out_path": out}
        tasks.append(Task(name=f"exact-{part}", fn=_FN + "exact_task", args=args))
    groups = band_groups(cfg.bands, cfg.band_groups) if cfg.near else []
    for g, bands in enumerate(groups):
        for part in range(parts):
            out = str(folder / "buckets" / f"{g:03d}-{part:05d}.parquet")
            bucket_paths.append(out)
            args = {**common, "bands": bands, "part": part, "out_path": out}
            tasks.append(Task(name=f"buckets-{g}-{part}", fn=_FN + "bucket_task", args=args))
    return tasks, exact_paths, bucket_paths


def run_dedup(
    ctx: StageContext, cfg: DedupConfig, sig_paths: list[Path], drop_paths: list[Path]
) -> dict[str, Any]:
    """Run the dedup passes; returns the record's dedup statistics."""
    folder = ctx.out / ".stage-work" / "dedup"
    sigs = [str(p) for p in sig_paths]
    tasks, exact_paths, bucket_paths = dedup_tasks(cfg, sigs, folder)
    found = run_tasks(light_context(ctx, folder / "find"), tasks, desc="curate dedup")
    merge = Task(
        name="merge",
        fn=_FN + "merge_task",
        args={
            "sig_paths": sigs,
            "exact_paths": exact_paths,
            "bucket_paths": bucket_paths,
            "drop_paths": [str(p) for p in drop_paths],
        },
    )
    (near,) = run_tasks(light_context(ctx, folder / "merge"), [merge], desc="curate dedup merge")
    stats: dict[str, Any] = {}
    if cfg.exact:
        exact = found[: len(exact_paths)]
        stats["exact"] = {
            "clusters": sum(r["clusters"] for r in exact),
            "removed": sum(r["removed"] for r in exact),
            "largest": max((r["largest"] for r in exact), default=0),
        }
    if cfg.near:
        stats["near"] = near
    return stats
