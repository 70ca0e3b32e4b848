"""Quality filters step: the recipe's filters in order; the first that objects drops."""

from __future__ import annotations

from openeurollm.data.document import Document
from openeurollm.data.filters import build_filters
from openeurollm.data.steps import STEPS_REGISTRY, Step, StepInputs


@STEPS_REGISTRY.register("filters")
class FiltersStep(Step):
    name = "filters"

    def setup(self, inputs: StepInputs) -> None:
        self.filters = build_filters(self.cfg.filters)

    def apply(self, doc: Document) -> Document | None:
        for flt in self.filters:
            verdict = flt.keep(doc)
            if verdict is not True:
                self.drop(doc, str(verdict), filter=flt.name)
                return None
        return doc
