"""The shards stage's record: tokens and documents per language in the token shards."""

from __future__ import annotations

from openeurollm.records.base import Record


class ShardsRecord(Record):
    dtype: str
    vocab_size: int
    eos_id: int
    tokens_per_language: dict[str, int]  # tokens written, repeated documents counted each time
    docs_per_language: dict[str, int]  # document occurrences (with repeats)
    total_tokens: int
    docs: int
    files: int
