"""What the release documents may say: stage records, provider statements, release files.

Documents never compute or assume a figure themselves: they ask `Facts`. A value a stage did
not record prints as "not recorded"; a statement only the provider can make (licence,
contact, intended uses ...) prints as "not provided" with the recipe field that supplies it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from openeurollm.config import ReleaseConfig
from openeurollm.escape import markdown_text
from openeurollm.records import RECORDS, load_record, record_fields

NOT_RECORDED = "not recorded"


class _Missing:
    def __repr__(self) -> str:
        return NOT_RECORDED

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def fmt(value: Any, unit: str = "", digits: int = 4) -> str:
    """A figure for a document: thousands separators, significant digits, or "not recorded"."""
    if value is MISSING or value is None:
        return NOT_RECORDED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        if value != value:  # NaN
            return NOT_RECORDED
        if value.is_integer() and abs(value) < 1e6:
            return fmt(int(value), unit)
        text = f"{value:,.{digits}g}" if abs(value) < 1e6 else f"{value:.3e}"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(fmt(v) for v in value) if value else "none"
    elif isinstance(value, Mapping):
        text = "; ".join(f"{k}: {fmt(v)}" for k, v in value.items()) if value else "none"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip() if unit else text


class Facts:
    def __init__(
        self,
        entries: Mapping[str, Mapping[str, Any]],
        release: ReleaseConfig,
        info: Mapping[str, Any] | None = None,
        today: str | None = None,
    ) -> None:
        for stage, entry in entries.items():
            if stage in RECORDS and "record" in entry:
                load_record(stage, entry["record"])  # a record that breaks its schema stops here
        self.entries = entries  # manifest entries of finished stages (record, seconds, ...)
        self.cfg = release
        self.info = dict(info or {})  # what the release stage itself produced (files, hashes)
        self.today = today or dt.date.today().isoformat()

    def rec(self, stage: str, *path: str | int) -> Any:
        """A value from a stage record, or MISSING. Asking for a field the stage's schema does
        not have is a programming error, not a missing value."""
        if stage in RECORDS and path and path[0] not in record_fields(stage):
            raise KeyError(f"the {stage} record has no field {path[0]!r}")
        node: Any = self.entries.get(stage, {}).get("record", MISSING)
        for key in path:
            if (isinstance(node, Mapping) and key in node) or (
                isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node)
            ):
                node = node[key]
            else:
                return MISSING
        return node

    def entry(self, stage: str, key: str) -> Any:
        value = self.entries.get(stage, {}).get(key, MISSING)
        return MISSING if value is None else value

    def has(self, stage: str) -> bool:
        return "record" in self.entries.get(stage, {})

    def r(self, stage: str, *path: str | int, unit: str = "") -> str:
        """A recorded figure, formatted, as Markdown text (a recorded string is input data)."""
        return markdown_text(fmt(self.rec(stage, *path), unit))

    def provided(self, field: str) -> str:
        """A provider statement from `release.<field>` in the recipe."""
        value = getattr(self.cfg, field)
        if value is None or value == [] or value == "":
            return f"not provided (set release.{field} in the recipe)"
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return fmt(value)

    # ---- derived facts used by several documents (each from records only)

    def languages(self) -> list[str]:
        for stage, key in (
            ("mix", "languages"),
            ("eval", "languages"),
            ("shards", "tokens_per_language"),
        ):
            value = self.rec(stage, key)
            if value:
                return sorted(value)
        return []

    def tokens_per_language(self) -> dict[str, int]:
        value = self.rec("train", "tokens_per_language") or self.rec(
            "shards", "tokens_per_language"
        )
        return dict(value) if value else {}

    def sources(self) -> list[dict[str, Any]]:
        value = self.rec("ingest", "sources")
        return list(value) if value else []

    def model_id(self) -> str:
        return f"{self.cfg.model_name}-{self.cfg.version}"
