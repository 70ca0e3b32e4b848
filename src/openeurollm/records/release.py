"""The release stage's record: what was published, under which digests and class."""

from __future__ import annotations

from typing import Any

from openeurollm.records.base import Record


class ReleaseRecord(Record):
    model_id: str
    model_name: str
    version: str
    architecture: str
    parameters: int
    dtype: str
    weights: list[str]
    weights_sha256: str | dict[str, str]
    tokenizer_files: list[str]
    documents: list[str]
    membership: dict[str, Any] | None
    openness_class: str
    openness_missing: dict[str, list[str]]  # class -> components missing or not open
    files: list[str]
    checksums: str
    date: str
    signed: bool = False


class ReportRecord(Record):
    path: str
    sections: list[str]
