"""Why a training process ended early, classified, in train/failure.json.

Reasons: "stall" (no step progress: a hung collective or a dead peer; the watchdog), "nan" and
"spike" (train.spike_policy=fail), "oom", "comm" (a collective failed), "time_limit" (Slurm's
warning, SIGUSR1 or the stop file), "preempted" (SIGTERM), "error" (anything else). A stall,
a communication error and a signal are worth a requeue (EXIT_REQUEUE): the next start resumes
from the last checkpoint and folds the reason into the train record's events. A NaN, a spike
or an OOM would only happen again, so they fail (exit 1).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import torch

from openeurollm.io.fileio import write_json
from openeurollm.train.anomaly import TrainingDiverged
from openeurollm.train.signals import EXIT_REQUEUE, STOP_FILE, Interrupted

FAILURE_FILE = "failure.json"
REQUEUE_REASONS = frozenset({"stall", "comm", "time_limit", "preempted"})


def classify(exc: BaseException) -> str:
    if isinstance(exc, Interrupted):
        return "time_limit" if exc.signum == signal.SIGUSR1 else "preempted"
    if isinstance(exc, TrainingDiverged):
        return exc.reason
    if isinstance(exc, torch.OutOfMemoryError):
        return "oom"
    dist_errors = tuple(
        getattr(torch.distributed, name)
        for name in ("DistError", "DistBackendError", "DistNetworkError")
        if hasattr(torch.distributed, name)
    )
    text = str(exc).lower()
    if isinstance(exc, dist_errors) or any(
        word in text for word in ("gloo", "nccl", "connection closed by peer", "connection reset")
    ):
        return "comm"
    return "error"


def exit_code(reason: str) -> int:
    return EXIT_REQUEUE if reason in REQUEUE_REASONS else 1


def record(out: Path, reason: str, step: int, message: str, rank: int) -> None:
    """Write train/failure.json (any rank may: the last writer wins, all say the same). Under
    Slurm a requeue-worthy reason also creates the stop file, on which the batch script
    requeues the job."""
    write_json(
        out / FAILURE_FILE,
        {"reason": reason, "step": step, "message": message, "rank": rank, "time": time.time()},
    )
    if reason in REQUEUE_REASONS and "SLURM_JOB_ID" in os.environ:
        (out / STOP_FILE).touch()


def take(out: Path) -> dict[str, Any] | None:
    """The failure a previous start left, removed so that it is counted once."""
    path = out / FAILURE_FILE
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        found = {"reason": "error", "message": "failure.json unreadable"}
    path.unlink(missing_ok=True)
    return found if isinstance(found, dict) else None


def read(out: Path) -> dict[str, Any] | None:
    path = out / FAILURE_FILE
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None
