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


@dataclasses.dataclass
class DedupPlan:
    """The dedup passes' tasks, in order of the passes, and the files they leave."""

    partition: list[Task]
    find: list[Task]
    merge: Task


def plan_dedup(
    cfg: DedupConfig, sig_paths: list[str], drop_paths: list[str], folder: Path
) -> DedupPlan:
    parts = cfg.key_ranges or max(1, len(sig_paths))
    groups = band_groups(cfg.bands, cfg.band_groups) if cfg.near else []
    part_dirs = [folder / "partitions" / f"{i:05d}" for i in range(len(sig_paths))]
    partition = [
        Task(
            name=f"partition-{i}",
            fn=_FN + "partition_task",
            args={
                "sig_path": sig,
                "parts": parts,
                "groups": groups,
                "exact": cfg.exact,
                "out_dir": str(part_dirs[i]),
            },
        )
        for i, sig in enumerate(sig_paths)
    ]
    kinds = (["exact"] if cfg.exact else []) + [f"group-{g:03d}" for g in range(len(groups))]
    find, outputs = [], {kind: [] for kind in kinds}
    for kind in kinds:
        for part in range(parts):
            out = str(folder / "buckets" / f"{kind}-{part:05d}.npy")
            outputs[kind].append(out)
            args = {
                "part_files": [str(d / f"{kind}.npy") for d in part_dirs],
                "part": part,
                "per_language": cfg.scope == "language",
                "out_path": out,
            }
            find.append(Task(name=f"{kind}-{part}", fn=_FN + "bucket_task", args=args))
    merge = Task(
        name="merge",
        fn=_FN + "merge_task",
        args={
            "sig_paths": sig_paths,
            "exact_paths": outputs.get("exact", []),
            "bucket_paths": [p for k in kinds if k != "exact" for p in outputs[k]],
            "drop_paths": drop_paths,
        },
    )
    return DedupPlan(partition, find, merge)


def run_dedup(
    ctx: StageContext, cfg: DedupConfig, sig_paths: list[Path], drop_paths: list[Path]
) -> dict[str, Any]:
    """Run the dedup passes; returns the record's dedup statistics."""
    folder = ctx.out / ".stage-work" / "dedup"
    plan = plan_dedup(cfg, [str(p) for p in sig_paths], [str(p) for p in drop_paths], folder)
    run_tasks(light_context(ctx, folder / "partition"), plan.partition, desc="dedup partition")
    run_tasks(light_context(ctx, folder / "find"), plan.find, desc="dedup buckets")
    (stats,) = run_tasks(light_context(ctx, folder / "merge"), [plan.merge], desc="dedup merge")
    return {kind: stats[kind] for kind in ("exact", "near") if getattr(cfg, kind)}
