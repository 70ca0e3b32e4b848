"""The train stage's record: model, tokens seen, compute, time and energy."""

from __future__ import annotations

from typing import Any

from openeurollm.records.base import Record


class TrainRecord(Record):
    flavor: str
    model: dict[str, Any]  # ModelArgs.to_dict()
    params: int
    params_non_embedding: int
    steps: int
    batch_size: int
    seq_len: int
    tokens_seen: int  # with repeats: every token of every step
    tokens_per_language: dict[str, int]
    shard_tokens: int
    shards_meta_sha256: str | None = None
    epochs: float  # tokens seen / tokens in the shards
    first_loss: float | None
    final_loss: float | None
    flops_per_token: int | float
    total_flops: float
    tokens_per_s: float
    wall_seconds: float
    device_hours: float
    energy_kwh: float | None
    energy_source: str | None
    world_size: int
    device: str
    dtype: str
    parallel: str
    compile: bool
    activation_checkpointing: bool | str
    resumed_from_step: int | None
    segments: int
    init_checkpoint: str
    continuous: str
