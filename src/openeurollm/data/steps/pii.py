"""PII step: mask e-mail addresses, phone numbers, IBANs, IPs and card numbers in place."""

from __future__ import annotations

from collections import Counter
from typing import Any

from openeurollm.data.document import Document, normalized_hash
from openeurollm.data.pii import PiiMasker
from openeurollm.data.steps import STEPS_REGISTRY, Step, StepInputs


@STEPS_REGISTRY.register("pii")
class PiiStep(Step):
    name = "pii"
    changes_text = True

    def setup(self, inputs: StepInputs) -> None:
        self.masker = PiiMasker(self.cfg.pii.kinds if self.cfg.pii.enabled else ())
        self.found: dict[str, Counter[str]] = {}

    def apply(self, doc: Document) -> Document | None:
        if self.masker.kinds:
            masked, counts = self.masker.mask(doc.text)
            if counts:
                # Travels to the shards lineage so check-inclusion finds the original text
                # (never published: the release drops it when it ships documents).
                doc.meta["unmasked_hash"] = normalized_hash(doc.text)
                doc.text = masked
                doc.meta["pii_masked"] = dict(sorted(counts.items()))
                self.found.setdefault(doc.lang, Counter()).update(counts)
        return doc

    def part(self) -> dict[str, Any]:
        return {"pii": {lang: dict(c) for lang, c in self.found.items()}}

    @classmethod
    def record(cls, merged: dict[str, Any], dropped: Counter[str]) -> dict[str, Any]:
        pii = merged.get("pii", {})
        total: Counter[str] = Counter()
        for counts in pii.values():
            total.update(counts)
        return {
            "pii": {lang: dict(sorted(c.items())) for lang, c in sorted(pii.items())},
            "pii_total": dict(sorted(total.items())),
        }
