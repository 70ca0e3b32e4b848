"""FineWeb line rules (Penedo et al. 2024): punctuation at line ends, duplicated lines, short lines."""

from __future__ import annotations

from typing import Any, ClassVar

from openeurollm.data.document import Document
from openeurollm.data.filters import FILTERS, Filter

# Sentence-final marks across our scripts: Greek uses ";" as its question mark and "·"
# as a semicolon; quotes and brackets may close a sentence.
_END_PUNCT = (*".!?;…:\"'»”’)]", "·", "。")


@FILTERS.register("fineweb_lines")
class FineWebLines(Filter):
    name = "fineweb_lines"
    defaults: ClassVar[dict[str, Any]] = {
        "min_punct_line_ratio": 0.12,
        "max_dup_line_char_ratio": 0.1,
        "max_short_line_ratio": 0.67,
        "short_line_chars": 30,
    }

    def keep(self, doc: Document) -> bool | str:
        p = self.params(doc.lang)
        lines = [line.strip() for line in doc.text.splitlines() if line.strip()]
        if not lines:
            return "fineweb_empty"
        if (
            sum(line.endswith(_END_PUNCT) for line in lines) / len(lines)
            < p["min_punct_line_ratio"]
        ):
            return "fineweb_line_punctuation"
        seen: set[str] = set()
        dup_chars = 0
        for line in lines:
            if line in seen:
                dup_chars += len(line)
            seen.add(line)
        total = sum(map(len, lines))
        if dup_chars / total > p["max_dup_line_char_ratio"]:
            return "fineweb_dup_line_chars"
        short = sum(len(line) <= p["short_line_chars"] for line in lines)
        if short / len(lines) > p["max_short_line_ratio"]:
            return "fineweb_short_lines"
        return True
