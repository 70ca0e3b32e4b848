"""Decontamination step: drop documents sharing a long word n-gram with an eval item."""

from __future__ import annotations

from collections import Counter
from typing import Any

from openeurollm.data.decontam import Decontaminator
from openeurollm.data.document import Document
from openeurollm.data.steps import STEPS_REGISTRY, Step, StepInputs


@STEPS_REGISTRY.register("decontam")
class DecontamStep(Step):
    name = "decontam"

    def setup(self, inputs: StepInputs) -> None:
        self.decontam = Decontaminator(self.cfg.decontam.ngram)
        if self.cfg.decontam.enabled:
            for name, template, path, base_dir in inputs.eval_tasks:
                self.decontam.add_task(name, template, path, base_dir)
        self.matches: dict[str, Counter[str]] = {}

    def apply(self, doc: Document) -> Document | None:
        match = self.decontam.find(doc.text) if self.cfg.decontam.enabled else None
        if match is None:
            return doc
        self.matches.setdefault(match.task, Counter())[match.item] += 1
        self.drop(doc, "decontam_ngram", task=match.task, item=match.item)
        return None

    def part(self) -> dict[str, Any]:
        return {"matches": {task: dict(items) for task, items in self.matches.items()}}

    @classmethod
    def record(cls, merged: dict[str, Any], dropped: Counter[str]) -> dict[str, Any]:
        matches = merged.get("matches", {})
        return {
            "decontam": {
                "matches": {t: dict(sorted(c.items())) for t, c in sorted(matches.items())},
                "docs_dropped": dropped.get("decontam_ngram", 0),
            }
        }
