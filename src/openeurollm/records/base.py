"""The base of every stage record: strict, so a field the writer renames or a reader misspells
fails loudly instead of printing "not recorded" in a published document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict[str, Any]:
        """The record as the manifest stores it (JSON types)."""
        return self.model_dump(mode="json")


class Part(Record):
    """A nested part of a record (same strictness)."""
