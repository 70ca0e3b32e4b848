"""Readers turn input files into Documents; unreadable records become Quarantined entries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from openeurollm.data.document import Document
from openeurollm.registry import Registry

if TYPE_CHECKING:
    from openeurollm.config import InputSpec


@dataclass
class Quarantined:
    """A record (or the rest of a file) that could not be read, kept with its reason."""

    source: str  # path, with :line where known
    reason: str
    sample: str = ""  # the first bytes, for a human to look at
    lost: int = 1  # input records (lines, rows, WARC records) this entry stands for


@dataclass
class SourceInfo:
    """What a file says about itself rather than a document: a WARC's warcinfo record (the
    crawler's software, user agent, operator and robots.txt policy), which the release
    documents report."""

    fields: dict[str, str]


Reader = Callable[[Path, "InputSpec"], Iterator[Document | Quarantined | SourceInfo]]


def _load_readers() -> None:
    from openeurollm.data.readers import jsonl, parquet, warc  # noqa: F401


READERS: Registry[Reader] = Registry("reader", loader=_load_readers)
