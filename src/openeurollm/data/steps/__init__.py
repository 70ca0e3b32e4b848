"""Curation steps: objects with one interface, run in recipe order by `Curator`.

Each step looks at one document and keeps it (possibly changed: relabelled, masked) or
drops it with a reason; the loop in `openeurollm.data.curate` counts what every step saw,
kept and dropped per language. A step may keep its own evidence (which domains opted out,
which eval items matched): `part()` returns it from one task, `merge()` combines the
parts of all tasks, and `record()` turns the merged part into the curate record's fields.
Steps register by name in STEPS_REGISTRY so the per-document chain is data, not code.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from openeurollm.config import CurateConfig
from openeurollm.data.document import Document
from openeurollm.data.steps.stats import Samples, StepStats
from openeurollm.registry import Registry


@dataclass(frozen=True)
class StepInputs:
    """Files outside the documents that steps read, resolved by the stage."""

    optout_files: dict[str, list[Path]] = field(default_factory=dict)
    eval_tasks: list[tuple[str, str, Path, Path]] = field(default_factory=list)


class Step:
    """One per-document curation step. Subclasses set `name` and implement `apply`."""

    name: ClassVar[str]
    changes_text: ClassVar[bool] = False  # True: byte counts are taken again after the step

    def __init__(
        self, cfg: CurateConfig, inputs: StepInputs, stats: StepStats, samples: Samples
    ) -> None:
        self.cfg = cfg
        self.stats = stats
        self.samples = samples
        self.setup(inputs)

    def setup(self, inputs: StepInputs) -> None:
        """Build what the step needs once per task (models, lists, indexes)."""

    def apply(self, doc: Document) -> Document | None:
        """The document to pass on, or None after `drop` was called for it."""
        raise NotImplementedError

    def drop(self, doc: Document, reason: str, **detail: Any) -> None:
        self.stats.dropped(self.name, doc.lang or "und", reason)
        self.samples.add(reason, doc, step=self.name, **detail)

    def part(self) -> dict[str, Any]:
        """This task's evidence beyond the counts (JSON-able)."""
        return {}

    @classmethod
    def merge(cls, parts: list[dict[str, Any]]) -> dict[str, Any]:
        """All tasks' parts as one; the default sums nested counters."""
        return sum_nested(parts)

    @classmethod
    def record(cls, merged: dict[str, Any], dropped: Counter[str]) -> dict[str, Any]:
        """Curate-record fields from the merged part and the stage's drops by reason."""
        return {}


def sum_nested(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Key-wise sum of dicts whose leaves are numbers (nested to any depth)."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                out[key] = sum_nested([out.get(key, {}), value])
            else:
                out[key] = out.get(key, 0) + value
    return out


def _load_steps() -> None:
    from openeurollm.data.steps import decontam, langid, optout, pii, quality  # noqa: F401


STEPS_REGISTRY: Registry[type[Step]] = Registry("curation step", loader=_load_steps)
# The built-in per-document chain, in order.
DOCUMENT_STEPS = ("langid", "optout", "filters", "pii", "decontam")
