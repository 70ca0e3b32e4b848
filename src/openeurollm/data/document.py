"""The Document record that flows through ingest, curate and mix."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any


def content_id(text: str) -> str:
    """Stable id from the content alone, so lineage survives reruns and reordering."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# Everything but str.isalnum() and str.isspace() characters: Python's Unicode \w is
# exactly isalnum() plus "_", and \s exactly isspace(). One regex pass instead of a
# Python call per character (this was 8% of curate's pass 1).
_NOT_WORD_OR_SPACE = re.compile(r"[^\w\s]|_")


def normalize_for_hash(text: str) -> str:
    """Normalization for exact dedup and membership checks: NFC, casefold, words only."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_NOT_WORD_OR_SPACE.sub(" ", text).split())


def normalized_hash(text: str) -> str:
    return hashlib.sha256(normalize_for_hash(text).encode("utf-8")).hexdigest()[:32]


@dataclass
class Document:
    id: str
    text: str
    lang: str
    lang_score: float = 0.0
    source: str = ""  # URL, or path of the input file
    meta: dict[str, Any] = field(default_factory=dict)  # license, domain, crawl_date, ref, ...

    @classmethod
    def new(cls, text: str, lang: str = "", source: str = "", **meta: Any) -> Document:
        return cls(id=content_id(text), text=text, lang=lang, source=source, meta=meta)

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "lang": self.lang,
            "lang_score": float(self.lang_score),
            "source": self.source,
            "meta": json.dumps(self.meta, sort_keys=True, ensure_ascii=False),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Document:
        return cls(
            id=row["id"],
            text=row["text"],
            lang=row["lang"],
            lang_score=float(row["lang_score"]),
            source=row["source"],
            meta=json.loads(row["meta"]) if row["meta"] else {},
        )
