"""Dedup as tasks: the same clusters as the single-process dedup, however the work is split;
reruns after a killed task change nothing; a missing or damaged intermediate stops the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openeurollm.config import DedupConfig, recipe_from_dict
from openeurollm.data.dedup.single import global_dedup
from openeurollm.errors import StageError
from openeurollm.pipeline.stage import StageContext
from openeurollm.pipeline.stages.dedup_tasks import run_dedup
from openeurollm.pipeline.tasks import TASK_DIR
from tests.data.helpers import write_key_shards


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_key_shards(tmp_path_factory.mktemp("keys"))


def context(root: Path, kind: str = "local", name: str = "dedup") -> StageContext:
    (root / "in.jsonl").write_text('{"text": "x"}\n')
    recipe = recipe_from_dict(
        {
            "run": {"name": name, "root": str(root / "runs")},
            "ingest": {"inputs": [{"path": "in.jsonl"}]},
            "executor": {"kind": kind, "slurm": {"poll_seconds": 0.5}},
        },
        root,
    )
    out = recipe.run_dir / "curate"
    out.mkdir(parents=True, exist_ok=True)
    return StageContext(recipe=recipe, run_dir=recipe.run_dir, out=out, key="k1", resume=False)


def run_split(ctx: StageContext, keys: list[Path], **dedup: Any) -> tuple[dict, dict, list]:
    """(stats, {shard: {reason: rows}}, drop files) of the task dedup."""
    drop_paths = [ctx.out / "drops" / f"{p.stem}.json" for p in keys]
    stats = run_dedup(ctx, DedupConfig(**dedup), keys, drop_paths)
    files = [json.loads(p.read_text()) for p in drop_paths]
    return stats, {i: f["drop"] for i, f in enumerate(files) if f["drop"]}, files


def single(keys: list[Path]) -> tuple[dict, dict]:
    ref = global_dedup(keys, exact=True, near=True, bands=14)
    drops = {i: {r: sorted(rows) for r, rows in d.items()} for i, d in ref["drops"].items()}
    return ref["stats"], drops


@pytest.mark.parametrize(
    ("key_ranges", "band_groups"), [(1, 1), (None, 2), (5, 14)], ids=["one", "shards", "many"]
)
def test_split_dedup_equals_single_process(
    keys: list[Path], tmp_path: Path, key_ranges: int | None, band_groups: int
) -> None:
    ref_stats, ref_drops = single(keys)
    assert ref_stats["exact"]["removed"] > 10 and ref_stats["near"]["removed"] > 10
    stats, drops, files = run_split(
        context(tmp_path), keys, key_ranges=key_ranges, band_groups=band_groups
    )
    assert drops == ref_drops
    assert stats["exact"] == ref_stats["exact"]
    assert stats["near"] == ref_stats["near"]
    # Every document is counted in its keeper's cluster size exactly once.
    kept_sizes = sum(sum(f["cluster_size"].values()) for f in files)
    kept_unique = ref_stats["docs"] - sum(len(r) for d in drops.values() for r in d.values())
    kept_unique -= sum(len(f["cluster_size"]) for f in files)
    assert kept_sizes + kept_unique == ref_stats["docs"]


def test_language_scope_keeps_a_copy_per_language(keys: list[Path], tmp_path: Path) -> None:
    everywhere, _, _ = run_split(context(tmp_path, name="g"), keys)
    per_language, _, _ = run_split(context(tmp_path, name="l"), keys, scope="language")
    # the planted copies in another language survive only per language
    assert per_language["exact"]["removed"] < everywhere["exact"]["removed"]
    assert per_language["near"]["clusters"] >= 1


def test_killed_task_reruns_to_the_same_result(keys: list[Path], tmp_path: Path) -> None:
    ctx = context(tmp_path)
    _, first, _ = run_split(ctx, keys)
    find = ctx.out / ".stage-work" / "dedup" / "find" / TASK_DIR
    tasks = json.loads((find / "tasks.json").read_text())["tasks"]
    index = next(i for i, t in enumerate(tasks) if t["name"] == "group-001-2")
    victim = Path(tasks[index]["args"]["out_path"])
    # As if that bucket task was killed mid-write: no marker, a partial temporary file.
    (find / f"{index:05d}.done.json").unlink()
    victim.unlink()
    (victim.parent / f".tmp-{victim.name}").write_bytes(b"PAR1 half")
    (ctx.out / ".stage-work" / "dedup" / "merge" / TASK_DIR / "00000.done.json").unlink()
    _, again, _ = run_split(ctx, keys)
    assert again == first and victim.exists()


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_missing_or_corrupt_intermediate_names_file_and_force(
    keys: list[Path], tmp_path: Path, damage: str
) -> None:
    ctx = context(tmp_path)
    run_split(ctx, keys)
    victim = sorted((ctx.out / ".stage-work" / "dedup" / "buckets").glob("group-*.npy"))[0]
    if damage == "missing":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[:100])  # truncated
    (ctx.out / ".stage-work" / "dedup" / "merge" / TASK_DIR / "00000.done.json").unlink()
    with pytest.raises(StageError) as err:
        run_split(ctx, keys)
    assert str(victim) in str(err.value) and "--force curate" in str(err.value)
