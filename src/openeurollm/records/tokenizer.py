"""The tokenizer stage's record: vocabulary, special tokens, fertility and parity."""

from __future__ import annotations

from typing import Any

from openeurollm.records.base import Record


class TokenizerRecord(Record):
    vocab_size: int
    special_tokens: list[str]
    bos_id: int
    eos_id: int
    pad_id: int
    balance: str
    languages: list[str]
    available_bytes: dict[str, int]
    sample_bytes: dict[str, float]
    weights: dict[str, float]
    parity_rounds: list[dict[str, Any]]
    parity_kind: str
    aligned_overlap: bool
    fertility: dict[str, dict[str, float]]
    parity: dict[str, float]
    tokens_per_byte_vs_en: dict[str, float] | None
    worst_parity: dict[str, Any] | None
    best_parity: dict[str, Any] | None
    mean_parity: float | None
