"""The stage contract: what a stage declares, what it receives, what it returns."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from openeurollm.config import Recipe
from openeurollm.registry import Registry

# The order of the chain. A stage reads only the folders of the stages in its `after`.
STAGE_ORDER: tuple[str, ...] = (
    "ingest", "curate", "mix", "tokenizer", "shards", "train", "eval", "release", "report",
)  # fmt: skip


def _load_stages() -> None:
    import openeurollm.pipeline.stages  # noqa: F401  (registers every stage)


STAGES: Registry[type[Stage]] = Registry("stage", loader=_load_stages)


@dataclass
class StageContext:
    """Everything a stage may use. It writes only under `out`."""

    recipe: Recipe
    run_dir: Path
    out: Path
    key: str  # identity of this stage's work: config + input digests
    resume: bool  # `out` holds partial work of an interrupted run with the same key
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # upstream stage records
    # Full manifest entries of finished stages (timings, versions, files) for report/release.
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("openeurollm"))

    def input(self, stage: str) -> Path:
        return self.run_dir / stage

    def record(self, stage: str) -> dict[str, Any]:
        """The record an upstream stage left in the manifest ({} when it recorded nothing)."""
        return self.records.get(stage, {})


class Stage:
    """One step of the chain. Subclasses set `name`, `after`, and implement `config` and `run`.

    `run` returns the stage record: counts, decisions and measurements that the release
    documents are generated from. It must be JSON-serializable.
    """

    name: ClassVar[str]
    after: ClassVar[tuple[str, ...]] = ()
    # Bump when the stage's output format or algorithm changes, so old outputs are redone.
    version: ClassVar[int] = 1
    # Output sub-paths that are not part of the stage's digest (resume state, caches).
    digest_exclude: ClassVar[tuple[str, ...]] = ()

    def config(self, recipe: Recipe) -> dict[str, Any]:
        """The recipe values that determine this stage's output."""
        raise NotImplementedError

    def external_inputs(self, recipe: Recipe) -> list[Path]:
        """Files outside the run directory that this stage reads (digested into its key)."""
        return []

    def run(self, ctx: StageContext) -> dict[str, Any]:
        raise NotImplementedError
