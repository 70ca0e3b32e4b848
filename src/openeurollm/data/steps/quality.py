"""Quality filters step: the recipe's filters in order; the first that objects drops.

Counts, per filter and language, the documents it judged and dropped, so a filter that
hurts one language more than the others is visible in the record."""

from __future__ import annotations

from collections import Counter
from typing import Any

from openeurollm.data.document import Document
from openeurollm.data.filters import build_filters
from openeurollm.data.steps import STEPS_REGISTRY, Step, StepInputs


@STEPS_REGISTRY.register("filters")
class FiltersStep(Step):
    name = "filters"

    def setup(self, inputs: StepInputs) -> None:
        self.filters = build_filters(self.cfg.filters)
        self.judged: dict[str, Counter[str]] = {f.name: Counter() for f in self.filters}
        self.dropped: dict[str, Counter[str]] = {f.name: Counter() for f in self.filters}

    def apply(self, doc: Document) -> Document | None:
        for flt in self.filters:
            self.judged[flt.name][doc.lang] += 1
            verdict = flt.keep(doc)
            if verdict is not True:
                self.dropped[flt.name][doc.lang] += 1
                self.drop(doc, str(verdict), filter=flt.name)
                return None
        return doc

    def part(self) -> dict[str, Any]:
        return {
            "judged": {name: dict(c) for name, c in self.judged.items()},
            "dropped": {name: dict(c) for name, c in self.dropped.items()},
        }

    @classmethod
    def record(cls, merged: dict[str, Any], dropped: Counter[str]) -> dict[str, Any]:
        """filter_drop_rates: {filter: {lang: {judged, dropped, rate}}}; a filter judges
        only the documents every earlier filter kept."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for name, langs in sorted(merged.get("judged", {}).items()):
            drops = merged.get("dropped", {}).get(name, {})
            out[name] = {
                lang: {
                    "judged": n,
                    "dropped": drops.get(lang, 0),
                    "rate": round(drops.get(lang, 0) / n, 4) if n else 0.0,
                }
                for lang, n in sorted(langs.items())
            }
        return {"filter_drop_rates": out}
