"""The eval stage's record: bits per byte per language, task scores, checkpoints evaluated."""

from __future__ import annotations

from openeurollm.records.base import Part, Record


class Heldout(Part):
    docs: int
    bytes: int
    tokens: int


class LanguageScore(Part):
    """One task in one language (or translation direction): the headline metric with its
    95% interval and how it was computed, the chance level; acc/acc_norm for multiple choice."""

    metric: str | None = None  # e.g. acc, acc_norm, acc_bytes, chrf, exact_match
    value: float | None = None
    ci95: list[float] | None = None  # [low, high]; None when it cannot be computed
    ci_method: str | None = None  # analytic (standard error) or bootstrap
    chance: float | None = None
    acc: float | None = None
    acc_norm: float | None = None
    n: int | None = None


class Aggregate(Part):
    """A macro mean over languages with its interval (the EU aggregate)."""

    value: float
    stderr: float | None
    ci95: list[float] | None
    ci_method: str | None = None
    languages: list[str]


class TaskResult(Part):
    source: str | None
    template: str | None
    output_type: str | None = None  # multiple_choice or generate_until
    reference_model: str | None = None  # set for a reference model's row, not ours
    num_fewshot: int | None
    per_language: dict[str, LanguageScore]
    aggregate: dict[str, Aggregate | None] | None = None  # macro, or from_en / into_en
    missing_languages: list[str] | None = None  # asked for, but the task has no data


class EvalRecord(Record):
    languages: list[str]
    bpb: dict[str, float]
    perplexity: dict[str, float]
    heldout: dict[str, Heldout]
    tasks: dict[str, TaskResult]
    checkpoint_steps: list[int]
    params: int
    device: str | None
