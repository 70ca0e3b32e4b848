"""Executors run a stage's pending tasks. Same tasks, same outputs, whichever runs them."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from openeurollm.config import Recipe
from openeurollm.errors import StageError
from openeurollm.io.progress import progress
from openeurollm.pipeline.tasks import run_task
from openeurollm.registry import Registry


class Executor:
    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe

    def run(self, task_dir: Path, pending: list[int], desc: str) -> None:
        raise NotImplementedError


def _load_executors() -> None:
    import openeurollm.pipeline.slurm  # noqa: F401  (registers "slurm")


EXECUTORS: Registry[type[Executor]] = Registry("executor", loader=_load_executors)


@EXECUTORS.register("local")
class LocalExecutor(Executor):
    """A process pool on this machine; runs inline when one worker (or one task) suffices."""

    def run(self, task_dir: Path, pending: list[int], desc: str) -> None:
        workers = min(self.recipe.executor.workers, len(pending))
        failures: list[str] = []
        if workers <= 1:
            for index in progress(pending, desc=desc, unit="task"):
                run_task(task_dir, index)
            return
        # forkserver: workers start clean (no inherited threads or locks from the parent).
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(run_task, task_dir, i): i for i in pending}
            for future in progress(
                as_completed(futures), total=len(futures), desc=desc, unit="task"
            ):
                exc = future.exception()
                if exc is not None:
                    failures.append(f"task {futures[future]}: {type(exc).__name__}: {exc}")
        if failures:
            raise StageError(f"{desc}: {len(failures)} task(s) failed; first: {failures[0]}")
