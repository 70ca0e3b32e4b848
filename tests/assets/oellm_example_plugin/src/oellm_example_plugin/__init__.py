"""An example openeurollm plugin: a reader, a quality filter and a curation step.

- reader `paragraphs`: a plain-text file, one document per blank-line-separated paragraph;
  the language comes from the file name (`notes.en.txt` -> en).
- filter `shouting`: drops documents whose letters are mostly capitals.
- step `length_tag`: annotates every document with its length class and counts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from openeurollm.data.document import Document
from openeurollm.data.filters import Filter
from openeurollm.data.steps import Step, StepInputs, sum_nested


def read_paragraphs(path: Path, spec: Any) -> Iterator[Document]:
    lang = path.name.split(".")[-2] if path.name.count(".") >= 2 else ""
    text = path.read_text(encoding="utf-8")
    for i, block in enumerate(b.strip() for b in text.split("\n\n")):
        if block:
            yield Document.new(block, lang=lang, source=f"{path}:{i}", license=spec.license)


class ShoutingFilter(Filter):
    name = "shouting"
    defaults: ClassVar[dict[str, Any]] = {"max_upper_share": 0.5}

    def keep(self, doc: Document) -> bool | str:
        letters = [c for c in doc.text if c.isalpha()]
        upper = sum(c.isupper() for c in letters) / max(1, len(letters))
        return True if upper <= self.params(doc.lang)["max_upper_share"] else "shouting"


class LengthTagStep(Step):
    name = "length_tag"

    def setup(self, inputs: StepInputs) -> None:
        self.classes: Counter[str] = Counter()

    def apply(self, doc: Document) -> Document | None:
        size = "long" if len(doc.text) > 400 else "short"
        doc.meta["length_class"] = size
        self.classes[size] += 1
        return doc

    def part(self) -> dict[str, Any]:
        return {"length_classes": dict(self.classes)}

    @classmethod
    def merge(cls, parts: list[dict[str, Any]]) -> dict[str, Any]:
        return sum_nested(parts)

    @classmethod
    def record(cls, merged: dict[str, Any], dropped: Counter[str]) -> dict[str, Any]:
        return {"length_classes": merged.get("length_classes", {})}
