"""Non-finite losses and loss spikes: fail with one clear line by default; skip the batch or
roll back and skip the data window when the recipe says so, with each event recorded."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from openeurollm.train.anomaly import TrainingDiverged
from openeurollm.train.callbacks import Callback
from openeurollm.train.loop import train

from .shards import losses, tiny_job


class ScaleLogits(Callback):
    """Fault injection: multiplies the model's logits by a factor in chosen steps, once per
    step (a rollback that runs the step again gets clean logits). NaN poisons the loss and
    every gradient; a large factor makes a confident wrong prediction, a loss spike."""

    def __init__(self, factors: dict[int, float]) -> None:
        self.factors = dict(factors)  # 0-based step -> factor
        self.injected: list[int] = []
        self._handle = None

    def on_start(self, trainer) -> None:  # type: ignore[no-untyped-def]
        def hook(module: torch.nn.Module, args: object, output: torch.Tensor) -> torch.Tensor:
            step = trainer.state["step"]
            if step not in self.factors:
                return output
            self.injected.append(step)
            return output * self.factors.pop(step)

        self._handle = trainer.model.register_forward_hook(hook)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.remove()


NAN_AT, SPIKE_AT = 7, 13  # 0-based steps: the 8th and the 14th
SETTINGS = dict(steps=20, checkpoint_every=5, spike_factor=2.0)


def _run(root: Path, policy: str) -> tuple[dict, ScaleLogits]:
    inject = ScaleLogits({NAN_AT: math.nan, SPIKE_AT: 40.0})
    summary = train(tiny_job(root, spike_policy=policy, **SETTINGS), [inject])
    assert inject.injected == [NAN_AT, SPIKE_AT]
    return summary, inject


def test_nonfinite_loss_fails_with_one_line_error(tmp_path: Path) -> None:
    """Issue 18.5: a learning rate that blows up must stop training, not produce a model."""
    with pytest.raises(TrainingDiverged) as err:
        train(tiny_job(tmp_path, lr=1e12, steps=10))
    message = str(err.value)
    assert "\n" not in message and "non-finite" in message and "at step 2" in message
    assert "train.spike_policy" in message
    out = tmp_path / "train"
    recorded = json.loads((out / "failure.json").read_text())
    assert recorded["reason"] == "nan" and recorded["step"] == 2
    assert not (out / "model.safetensors").exists() and not (out / "summary.json").exists()


def test_skip_batch_survives_a_nan_and_a_spike(tmp_path: Path) -> None:
    summary, _ = _run(tmp_path, "skip_batch")
    events = summary["events"]
    assert [(e["step"], e["reason"], e["action"]) for e in events] == [
        (NAN_AT + 1, "nan", "skip_batch"),
        (SPIKE_AT + 1, "spike", "skip_batch"),
    ]
    assert events[0]["loss"] is None and events[1]["loss"] > 2 * summary["first_loss"]
    assert summary["steps"] == 20 and math.isfinite(summary["final_loss"])
    # Two updates fewer: their tokens are not counted as trained.
    assert summary["tokens_seen"] == 18 * 8 * 32 == sum(summary["tokens_per_language"].values())
    rows = [json.loads(x) for x in (tmp_path / "train" / "metrics.jsonl").read_text().splitlines()]
    skipped = {r["step"]: r["skipped"] for r in rows if "skipped" in r}
    assert skipped == {NAN_AT + 1: "nan", SPIKE_AT + 1: "spike"}
    assert json.dumps(summary, allow_nan=False)  # no bare NaN in the record


def test_rollback_survives_a_nan_and_a_spike(tmp_path: Path) -> None:
    summary, _ = _run(tmp_path, "rollback")
    events = [(e["step"], e["reason"], e["action"], e["to_step"]) for e in summary["events"]]
    # Each goes back to the newest checkpoint (every 5 steps) and skips the windows since it.
    assert events == [(NAN_AT + 1, "nan", "rollback", 5), (SPIKE_AT + 1, "spike", "rollback", 10)]
    assert summary["skipped_data_windows"] == (NAN_AT + 1 - 5) + (SPIKE_AT + 1 - 10)
    assert summary["steps"] == 20 and summary["tokens_seen"] == 20 * 8 * 32
    # The curve has each step once, all finite: the rolled-back rows were rewritten.
    curve = losses(tmp_path / "train")
    assert len(curve) == 20 and all(math.isfinite(x) for x in curve)
    assert summary["final_loss"] < summary["first_loss"]
