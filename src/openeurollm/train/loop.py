"""`train(job)`: the entry point every launcher calls (the stage, torchrun, Slurm), on every
rank the same way. The trainer itself is train/trainer.py; its accounting, train/callbacks.py."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openeurollm.config import TrainConfig
from openeurollm.train import failure
from openeurollm.train.callbacks import AccountingCallback, Callback, MetricsCallback
from openeurollm.train.job import Job
from openeurollm.train.outputs import SUMMARY_FILE
from openeurollm.train.parallel import DistInfo, close_distributed, init_distributed
from openeurollm.train.trainer import Trainer
from openeurollm.train.watchdog import Watchdog

__all__ = ["SUMMARY_FILE", "default_callbacks", "train"]


def default_callbacks(cfg: TrainConfig, out: Path, info: DistInfo) -> list[Callback]:
    """The accounting every run has (metrics rows and MFU, time and energy), and the
    watchdog when train.watchdog_seconds is set."""
    callbacks: list[Callback] = [
        MetricsCallback(out / "metrics.jsonl", out / "tensorboard", cfg.log_every),
        AccountingCallback(info.device, cfg.power_watts),
    ]
    if cfg.watchdog_seconds:
        callbacks.append(Watchdog(cfg.watchdog_seconds, out, info.rank))
    return callbacks


def train(job: Job, extra_callbacks: Sequence[Callback] = ()) -> dict[str, Any]:
    """Run (or continue) the job. Returns the summary on rank 0, {} elsewhere.
    Raises Interrupted after checkpointing when a stop signal arrived."""
    cfg = TrainConfig.model_validate(job.train)
    if cfg.deterministic:
        # cuBLAS needs this set before its first use to be deterministic.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    info = init_distributed(cfg.device)
    out = Path(job.out)
    trainer = Trainer(job, cfg, info, [*default_callbacks(cfg, out, info), *extra_callbacks])
    try:
        return trainer.fit()
    except Exception as exc:
        # Classified in train/failure.json: the stage, the launcher and the next start read it.
        step = getattr(trainer, "state", {}).get("step", 0)
        failure.record(out, failure.classify(exc), step, str(exc), info.rank)
        raise
    finally:
        close_distributed()
