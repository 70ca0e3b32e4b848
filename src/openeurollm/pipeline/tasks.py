"""Tasks: the unit an executor runs (one input shard through a stage's steps).

A stage describes its tasks as data (an importable function name plus JSON arguments) in
`<stage>/.stage-tasks/tasks.json`. Any executor (a local process pool, a Slurm array job)
runs task i with `run_task(task_dir, i)`, which writes a done-marker carrying the task's
stats and the stage key. A rerun skips tasks whose marker has the current key. Task
functions write their outputs atomically, so a killed task leaves nothing half-written.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openeurollm.errors import StageError
from openeurollm.io.fileio import read_json, write_json

TASK_DIR = ".stage-tasks"


@dataclass(frozen=True)
class Task:
    name: str
    fn: str  # "package.module:function", called as fn(**args) -> stats (JSON-able dict)
    args: dict[str, Any]


def _marker(task_dir: Path, index: int) -> Path:
    return task_dir / f"{index:05d}.done.json"


def marker_stats(task_dir: Path, index: int, key: str) -> dict[str, Any] | None:
    path = _marker(task_dir, index)
    if not path.exists():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    return data["stats"] if data.get("key") == key else None


def run_task(task_dir: Path, index: int) -> dict[str, Any]:
    """Run one task by index and write its done-marker. Entry point for every executor."""
    spec = read_json(Path(task_dir) / "tasks.json")
    task = spec["tasks"][index]
    module_name, _, func_name = task["fn"].partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    stats = func(**task["args"])
    write_json(
        _marker(Path(task_dir), index), {"key": spec["key"], "name": task["name"], "stats": stats}
    )
    return stats


def run_tasks(ctx: Any, tasks: list[Task], desc: str) -> list[dict[str, Any]]:
    """Run every task not already done under this key; return all tasks' stats in order."""
    from openeurollm.pipeline.executors import EXECUTORS

    task_dir = ctx.out / TASK_DIR
    task_dir.mkdir(parents=True, exist_ok=True)
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"task names must be unique within a stage: {names}")
    write_json(task_dir / "tasks.json", {"key": ctx.key, "tasks": [asdict(t) for t in tasks]})
    pending = [i for i in range(len(tasks)) if marker_stats(task_dir, i, ctx.key) is None]
    if len(pending) < len(tasks):
        ctx.log.info(
            "%s: %d of %d tasks already done, reused", desc, len(tasks) - len(pending), len(tasks)
        )
    if pending:
        executor = EXECUTORS.get(ctx.recipe.executor.kind)(ctx.recipe)
        executor.run(task_dir, pending, desc)
    results = []
    for i, task in enumerate(tasks):
        stats = marker_stats(task_dir, i, ctx.key)
        if stats is None:
            raise StageError(f"{desc}: task {task.name!r} did not complete; rerun to retry it")
        results.append(stats)
    return results


if __name__ == "__main__":  # python -m openeurollm.pipeline.tasks TASK_DIR INDEX
    run_task(Path(sys.argv[1]), int(sys.argv[2]))
