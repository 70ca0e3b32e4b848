"""`train(job)`: the entry point every launcher calls (the stage, torchrun, Slurm), on every
rank the same way. The trainer itself is train/trainer.py; its accounting, train/callbacks.py."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openeurollm.config import TrainConfig
from openeurollm.train.callbacks import AccountingCallback, Callback, MetricsCallback
from openeurollm.train.job import Job
from openeurollm.train.outputs import SUMMARY_FILE
from openeurollm.train.parallel import close_distributed, init_distributed
from openeurollm.train.trainer import Trainer

__all__ = ["SUMMARY_FILE", "default_callbacks", "train"]


def default_callbacks(cfg: TrainConfig, out: Path, device: Any) -> list[Callback]:
    """The accounting every run has: metrics rows and MFU, time and energy."""
    return [
        MetricsCallback(out / "metrics.jsonl", out / "tensorboard", cfg.log_every),
        AccountingCallback(device, cfg.power_watts),
    ]


def train(job: Job, extra_callbacks: Sequence[Callback] = ()) -> dict[str, Any]:
    """Run (or continue) the job. Returns the summary on rank 0, {} elsewhere.
    Raises Interrupted after checkpointing when a stop signal arrived."""
    cfg = TrainConfig.model_validate(job.train)
    if cfg.deterministic:
        # cuBLAS needs this set before its first use to be deterministic.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    info = init_distributed(cfg.device)
    try:
        callbacks = [*default_callbacks(cfg, Path(job.out), info.device), *extra_callbacks]
        return Trainer(job, cfg, info, callbacks).fit()
    finally:
        close_distributed()
