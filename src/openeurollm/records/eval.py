"""The eval stage's record: bits per byte per language, task scores, checkpoints evaluated."""

from __future__ import annotations

from openeurollm.records.base import Part, Record


class Heldout(Part):
    docs: int
    bytes: int
    tokens: int


class LanguageScore(Part):
    acc: float | None
    acc_norm: float | None
    n: int | None


class TaskResult(Part):
    source: str | None
    template: str | None
    num_fewshot: int | None
    per_language: dict[str, LanguageScore]


class EvalRecord(Record):
    languages: list[str]
    bpb: dict[str, float]
    perplexity: dict[str, float]
    heldout: dict[str, Heldout]
    tasks: dict[str, TaskResult]
    checkpoint_steps: list[int]
    params: int
    device: str | None
