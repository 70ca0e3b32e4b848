"""The ingest stage's record: input files, documents and bytes per label, sources."""

from __future__ import annotations

from pydantic import Field

from openeurollm.records.base import Part, Record


class Period(Part):
    start: str | None
    end: str | None


class Crawler(Part):
    """Who crawled the WARC input, as its warcinfo records declare it."""

    user_agent: str | None
    software: str | None
    operator: str | None
    robots_policy: str | None
    crawls: list[str]
    files: int


class Source(Part):
    path: str
    name: str
    license: str | None  # the input's default licence (recipe)
    # The licence of each document (its own, else the input's default) -> documents.
    licenses: dict[str, int] = Field(default_factory=dict)
    format: str
    sha256: str
    docs: int
    bytes: int
    quarantined: int
    collection_start: str | None
    collection_end: str | None
    undated_docs: int
    crawler: dict[str, list[str]] | None = None


class IngestRecord(Record):
    files: int
    docs: int
    bytes: int
    docs_per_label: dict[str, int]
    bytes_per_label: dict[str, int]
    quarantined: dict[str, int]
    collection_start: str | None
    collection_end: str | None
    undated_docs: int
    crawl: Period | None = None  # only when WARC input came in
    crawler: Crawler | None = None  # only when a WARC file declares its crawler
    sources: list[Source]
