"""The watchdog: a thread that ends the process when no training step completes for
`train.watchdog_seconds` (a hung collective, a dead or frozen peer, a stuck file system).

A rank blocked in a collective cannot raise anything itself: gloo and NCCL wait for their own
timeout (30 minutes here) while the job burns its allocation. The watchdog records the reason
(train/failure.json: "stall", with the last step) and exits with EXIT_REQUEUE at once, so that
torchrun ends the other ranks and Slurm requeues the job, which resumes from the last
checkpoint. The time covers a step and any checkpoint saved after it; the first step (which
compiles) gets `FIRST_STEP_FACTOR` times as long.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from openeurollm.train import failure
from openeurollm.train.callbacks import Callback, StepResult
from openeurollm.train.signals import EXIT_REQUEUE

if TYPE_CHECKING:
    from openeurollm.train.trainer import Trainer

log = logging.getLogger("openeurollm")
FIRST_STEP_FACTOR = 5


class Watchdog(Callback):
    def __init__(self, seconds: float, out: Path, rank: int) -> None:
        self.seconds, self.out, self.rank = seconds, out, rank
        self._last = time.monotonic()
        self._step = 0
        self._limit = seconds * FIRST_STEP_FACTOR
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_start(self, trainer: Trainer) -> None:
        self._step = trainer.state["step"]
        self._last = time.monotonic()
        self._thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self._thread.start()

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        self._step, self._last, self._limit = result.step, time.monotonic(), self.seconds

    def _watch(self) -> None:
        while not self._stop.wait(min(1.0, self.seconds / 4)):
            idle = time.monotonic() - self._last
            if idle > self._limit:
                self._fire(idle)

    def _fire(self, idle: float) -> None:
        message = (
            f"no training progress for {idle:.0f}s after step {self._step} on rank {self.rank} "
            f"(train.watchdog_seconds={self.seconds:g}): a hung collective or a dead peer; "
            "ending the process so the job is requeued and resumes from the last checkpoint"
        )
        try:
            failure.record(self.out, "stall", self._step, message, self.rank)
            log.error("train: %s", message)
            for handler in logging.getLogger().handlers + log.handlers:
                handler.flush()
            sys.stderr.flush()
        finally:
            # The main thread is blocked inside a collective: only leaving the process ends it.
            os._exit(EXIT_REQUEUE)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
