"""Loss anomalies: a non-finite loss or gradient norm, or a loss spike, and what to do about
one (train.spike_policy): fail, skip the batch's update, or roll back to the last checkpoint
and skip the data windows since it. PaLM and OLMo handle their spikes the same two ways."""

from __future__ import annotations

import math

# How many recent accepted losses a spike is measured against (and the fewest needed).
SPIKE_WINDOW = 20
SPIKE_MIN_HISTORY = 5


class TrainingDiverged(Exception):
    """Training met an anomaly it was told not to survive (one line for the user)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def detect(loss: float, grad_norm: float, recent: list[float], factor: float | None) -> str | None:
    """ "nan" for a non-finite loss or gradient norm, "spike" for a loss above `factor` times
    the mean of the recent accepted losses, else None."""
    if not (math.isfinite(loss) and math.isfinite(grad_norm)):
        return "nan"
    enough = factor is not None and len(recent) >= SPIKE_MIN_HISTORY
    if enough and loss > factor * (sum(recent) / len(recent)):  # type: ignore[operator]
        return "spike"
    return None


def describe(reason: str, loss: float, grad_norm: float, step: int) -> str:
    if reason == "spike":
        what = "a loss spike"
    else:
        what = "a non-finite " + ("loss" if not math.isfinite(loss) else "gradient norm")
    return f"{what} at step {step} (loss {loss:.4g}, gradient norm {grad_norm:.4g})"


def remember(recent: list[float], loss: float) -> list[float]:
    """The spike window after accepting `loss` (kept in the trainer state for exact resume)."""
    return [*recent, loss][-SPIKE_WINDOW:]
