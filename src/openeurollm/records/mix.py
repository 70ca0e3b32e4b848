"""The mix stage's record: per-language sizes before and after the budget, held-out sets."""

from __future__ import annotations

from openeurollm.records.base import Part, Record


class Rehydration(Part):
    """FineWeb-2-style upsampling by duplicate-cluster size (mix.rehydrate), when applied."""

    weights: dict[str, float] | None  # smallest cluster size -> weight; None: not applied
    bytes_weighted: dict[str, float] | None = None
    docs_reweighted: int | None = None  # documents whose weight is not 1


class MixRecord(Record):
    strategy: str
    languages: list[str]
    bytes_before: dict[str, int]
    docs_before: dict[str, int]  # distinct documents available for training (not held out)
    bytes_after: dict[str, int]
    docs_after: dict[str, int]  # document occurrences in the training mix (with repeats)
    distinct_docs_after: dict[str, int] | None = None  # distinct documents in the mix
    epochs: dict[str, float]
    heldout_docs: dict[str, int]
    train_docs: int
    train_bytes: int
    distinct_train_docs: int | None = None
    rehydration: Rehydration | None = None  # absent in records before it existed
