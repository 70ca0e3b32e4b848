"""Resuming onto a corrupted checkpoint, through the real load path (the train stage).

The decision: the run refuses, naming the file and the recovery, rather than falling back to
an older checkpoint on its own. A corrupted checkpoint means the storage under the run cannot
be trusted; silently training again from an older step would hide that, and would spend
compute the user did not ask for. The recovery the message names (delete the damaged
checkpoint) then resumes from the previous complete one, bit for bit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from openeurollm.errors import StageError
from openeurollm.pipeline.manifest import Manifest
from openeurollm.pipeline.runner import run_pipeline
from openeurollm.train import checkpoint

from ..conftest import SmallRun, small_recipe
from .conftest import FAULTS

pytestmark = pytest.mark.slow


def _interrupted_in_train(small_run: SmallRun, tmp_path: Path) -> Path:
    """A copy of the finished run as a SIGKILL during training leaves it."""
    run = tmp_path / "small"
    shutil.copytree(small_run.run_dir, run, ignore=shutil.ignore_patterns(".lock"))
    manifest = Manifest.load(run)
    for stage in ("train", "eval", "release", "report"):
        manifest.stages.pop(stage)
    manifest.stages["train"] = {"status": "running"}
    manifest.save()
    return run


def test_corrupted_latest_checkpoint_is_refused_then_recovered(
    small_run: SmallRun, tmp_path: Path
) -> None:
    run = _interrupted_in_train(small_run, tmp_path)
    found = checkpoint.checkpoints(run / "train" / "checkpoints")
    assert len(found) >= 2, found  # a previous complete checkpoint to recover to
    latest = found[-1][1]
    weights = max(
        (p for p in latest.iterdir() if p.name != "trainer.json"), key=lambda p: p.stat().st_size
    )
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))

    with pytest.raises(StageError) as err:
        run_pipeline(small_recipe(tmp_path), until="train")
    message = str(err.value)
    assert str(weights) in message and "checksum mismatch" in message
    assert f"delete {latest}" in message
    FAULTS["corruptions_detected"] += 1

    shutil.rmtree(latest)  # the recovery the message names
    manifest = run_pipeline(small_recipe(tmp_path), until="train")
    record = manifest.stages["train"]["record"]
    assert record["resumed_from_step"] == found[-2][0]
    reference = small_run.manifest.stages["train"]["files"]  # type: ignore[attr-defined]
    got = manifest.stages["train"]["files"]
    weight_files = [name for name in reference if name.endswith(".safetensors")]
    assert weight_files
    assert {n: got[n] for n in weight_files} == {n: reference[n] for n in weight_files}
