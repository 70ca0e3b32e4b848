"""Trainer callbacks: the accounting around the training step, kept out of the step itself.

In OLMo-core's manner the trainer owns the model, optimizer, data and checkpoints and calls a
list of callbacks at fixed points; each callback owns one concern (metrics rows and MFU, wall
time and energy, the watchdog). Every rank calls every hook in the same order, so a hook may
run a collective (the energy sum does).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from openeurollm.train.metrics import EnergyMeter, MetricsLog, peak_flops
from openeurollm.train.outputs import truncate_metrics
from openeurollm.train.parallel import all_reduce

if TYPE_CHECKING:
    from openeurollm.train.trainer import Trainer


@dataclass(frozen=True)
class StepResult:
    """What one optimizer step did; `step` counts the steps done after it (1-based)."""

    step: int
    loss: float
    grad_norm: float
    lr: float
    starts: np.ndarray  # the data windows the step read
    stopping: bool  # a stop signal arrived on some rank
    skipped: str | None = None  # why the update was not applied (an anomaly), else None


class Callback:
    """Hooks the trainer calls on every rank; the default does nothing."""

    def on_start(self, trainer: Trainer) -> None:
        """After setup (and resume), before the first step of this segment."""

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        """After each optimizer step (also a skipped one)."""

    def on_checkpoint(self, trainer: Trainer) -> None:
        """Just before a checkpoint is saved: fold what the checkpoint must carry into state."""

    def on_rollback(self, trainer: Trainer, step: int) -> None:
        """The trainer went back to the checkpoint of `step` (train.spike_policy=rollback)."""

    def on_end(self, trainer: Trainer, summary: dict[str, Any]) -> None:
        """Training finished: add this callback's fields to the summary (rank 0's is kept)."""

    def close(self) -> None:
        """Release threads and files; called on every exit path, errors included."""


class MetricsCallback(Callback):
    """metrics.jsonl rows (loss, lr, grad norm, tokens/s, MFU) every `log_every` steps, rank 0."""

    def __init__(self, path: Path, tensorboard_dir: Path | None, log_every: int) -> None:
        self.path, self.tensorboard_dir, self.log_every = path, tensorboard_dir, log_every
        self.log: MetricsLog | None = None
        self._t_log = 0.0
        self._tokens_log = 0
        self._flops_per_token = 0
        self._peak: float | None = None

    def on_start(self, trainer: Trainer) -> None:
        self._flops_per_token = trainer.flops_per_token
        self._peak = peak_flops(trainer.info.device, trainer.cfg.dtype, trainer.cfg.peak_flops)
        self._t_log, self._tokens_log = time.monotonic(), trainer.state["tokens_seen"]
        if trainer.info.is_main:
            self.log = MetricsLog(self.path, self.tensorboard_dir)

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        done = result.step
        due = done == 1 or done % self.log_every == 0 or done == trainer.cfg.steps
        if self.log is None or not (due or result.stopping):
            return
        now = time.monotonic()
        tps = (trainer.state["tokens_seen"] - self._tokens_log) / max(now - self._t_log, 1e-9)
        self._t_log, self._tokens_log = now, trainer.state["tokens_seen"]
        world = trainer.info.world_size
        row: dict[str, Any] = {
            "step": done,
            # A non-finite loss is written as null: JSON has no NaN.
            "loss": result.loss if math.isfinite(result.loss) else None,
            "lr": result.lr,
            "grad_norm": result.grad_norm if math.isfinite(result.grad_norm) else None,
            "tokens_per_s": round(tps, 1),
            "mfu": round(tps / world * self._flops_per_token / self._peak, 5)
            if self._peak
            else None,
            "tokens_seen": trainer.state["tokens_seen"],
        }
        if result.skipped:
            row["skipped"] = result.skipped
        self.log.write(row)

    def on_rollback(self, trainer: Trainer, step: int) -> None:
        """The rows after `step` are written again as the steps are run again."""
        if self.log is not None:
            self.log.close()
            truncate_metrics(self.path, step)
            self.log = MetricsLog(self.path, self.tensorboard_dir)
        self._tokens_log = trainer.state["tokens_seen"]

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None


class AccountingCallback(Callback):
    """Wall time, device time and energy of every segment, folded into the trainer state (so a
    resumed run adds to what came before) and reported in the summary."""

    def __init__(self, device: torch.device, power_watts: float | None) -> None:
        self.meter = EnergyMeter(device, power_watts)
        self._t_start = 0.0
        self._base: dict[str, Any] = {}
        self._tokens_start = 0

    def on_start(self, trainer: Trainer) -> None:
        state = trainer.state
        self._base = {k: state[k] for k in ("wall_seconds", "device_seconds", "energy_j")}
        self._tokens_start = state["tokens_seen"]
        self.meter.start()
        self._t_start = time.monotonic()

    def _account(self, trainer: Trainer) -> None:
        """Fold this segment's time and energy (all ranks) into the state (collective)."""
        joules = self.meter.joules()
        reading = torch.tensor(math.nan if joules is None else joules, device=trainer.info.device)
        energy = float(all_reduce(reading.double(), "sum"))  # NaN if any rank has no reading
        wall = time.monotonic() - self._t_start
        state, base = trainer.state, self._base
        state["wall_seconds"] = base["wall_seconds"] + wall
        state["device_seconds"] = base["device_seconds"] + wall * trainer.info.world_size
        known = base["energy_j"] is not None and not math.isnan(energy)
        state["energy_j"] = base["energy_j"] + energy if known else None

    def on_checkpoint(self, trainer: Trainer) -> None:
        self._account(trainer)

    def on_end(self, trainer: Trainer, summary: dict[str, Any]) -> None:
        self._account(trainer)
        self.meter.close()
        state = trainer.state
        wall = time.monotonic() - self._t_start
        segment_tokens = state["tokens_seen"] - self._tokens_start
        energy = state["energy_j"]
        summary.update(
            {
                "tokens_per_s": round(segment_tokens / max(wall, 1e-9), 1),
                "wall_seconds": round(state["wall_seconds"], 3),
                "device_hours": round(state["device_seconds"] / 3600, 6),
                "energy_kwh": None if energy is None else round(energy / 3.6e6, 6),
                "energy_source": self.meter.source,
            }
        )

    def close(self) -> None:
        self.meter.close()
