"""Language ID step: drop documents not in a target language; relabel wrong labels."""

from __future__ import annotations

from collections import Counter
from typing import Any

from openeurollm.data.document import Document
from openeurollm.data.langid import LanguageId
from openeurollm.data.steps import STEPS_REGISTRY, Step, StepInputs


@STEPS_REGISTRY.register("langid")
class LangIdStep(Step):
    name = "langid"

    def setup(self, inputs: StepInputs) -> None:
        lid = self.cfg.langid
        self.langid = LanguageId(
            self.cfg.languages,
            min_score=lid.min_score,
            thresholds=lid.thresholds,
            relabel=lid.relabel,
        )
        self.relabelled: Counter[str] = Counter()

    def apply(self, doc: Document) -> Document | None:
        decision = self.langid.decide(doc.text, doc.lang)
        if decision.reason:
            self.drop(doc, decision.reason, score=round(decision.score, 4))
            return None
        if decision.relabelled:
            self.relabelled[f"{doc.lang or 'und'}->{decision.lang}"] += 1
            doc.meta["lang_label"] = doc.lang
        doc.lang, doc.lang_score = decision.lang, round(decision.score, 6)
        return doc

    def part(self) -> dict[str, Any]:
        return {"relabelled": dict(self.relabelled)}

    @classmethod
    def record(cls, merged: dict[str, Any], dropped: Counter[str]) -> dict[str, Any]:
        return {"relabelled": dict(sorted(merged.get("relabelled", {}).items()))}
