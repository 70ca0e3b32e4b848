"""C4-style document rules (Raffel et al. 2020): boilerplate markers that condemn a page."""

from __future__ import annotations

from typing import Any, ClassVar

from openeurollm.data.document import Document
from openeurollm.data.filters import FILTERS, Filter


@FILTERS.register("c4_markers")
class C4Markers(Filter):
    """Drop pages with lorem ipsum, code braces or JavaScript warnings, as C4 does.

    C4 also deletes lines without terminal punctuation; we drop by document instead (the
    FineWeb punctuation ratio), so curated text is never silently rewritten.
    """

    name = "c4_markers"
    defaults: ClassVar[dict[str, Any]] = {
        "lorem_ipsum": True,
        "curly_braces": True,
        "javascript": True,
        "min_sentences": 3,
    }

    def keep(self, doc: Document) -> bool | str:
        p = self.params(doc.lang)
        low = doc.text.casefold()
        if p["lorem_ipsum"] and "lorem ipsum" in low:
            return "c4_lorem_ipsum"
        if p["curly_braces"] and ("{" in doc.text or "}" in doc.text):
            return "c4_curly_braces"
        if p["javascript"] and "javascript" in low and ("enable" in low or "aktivier" in low):
            return "c4_javascript"
        sentences = sum(low.count(c) for c in ".!?;") or 1
        if sentences < p["min_sentences"]:
            return "c4_too_few_sentences"
        return True
