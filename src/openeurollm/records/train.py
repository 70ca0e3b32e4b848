"""The train stage's record: model, tokens seen, compute, time and energy."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from openeurollm.records.base import Part, Record


class TrainEvent(Part):
    """An anomaly the run survived (train.spike_policy) or a restart after a classified
    failure (train/failure.py), in order."""

    step: int | None
    reason: str  # nan, spike, stall, oom, comm, time_limit, preempted, error
    action: str  # skip_batch, rollback or restart
    loss: float | None = None  # null when it was not finite
    to_step: int | None = None  # rollback: the checkpoint returned to
    skipped_windows: int | None = None  # rollback: data windows skipped since it
    resumed_at_step: int | None = None  # restart: where the run continued


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
    parallel: str  # none, ddp, fsdp, tp or fsdp+tp
    tensor_parallel: int = 1
    compile: bool
    activation_checkpointing: bool | str
    resumed_from_step: int | None
    segments: int
    spike_policy: str = "fail"  # absent in records before it existed
    events: list[TrainEvent] = Field(default_factory=list)
    skipped_data_windows: int = 0
    init_checkpoint: str
    continuous: str
