"""The train stage adapter: its key, its record, and the torchrun path for nproc > 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from openeurollm.config import recipe_from_dict
from openeurollm.errors import StageError
from openeurollm.pipeline.runner import run_pipeline
from openeurollm.pipeline.stage import StageContext
from openeurollm.pipeline.stages.train import TrainStage
from openeurollm.train.loop import train

from ..conftest import SmallRun, small_recipe
from .shards import TINY_MODEL, losses, tiny_job, write_shards

SETTINGS = dict(steps=8, batch_size=8, seq_len=32, lr=1e-2, warmup_steps=2, log_every=1,
                checkpoint_every=4, threads=1)  # fmt: skip


def _context(root: Path, **train: object) -> StageContext:
    root.mkdir(parents=True, exist_ok=True)
    (root / "in.jsonl").write_text('{"text": "x", "lang": "de"}\n')
    data = {
        "run": {"name": "t", "root": str(root / "runs"), "seed": 1},
        "ingest": {"inputs": [{"path": "in.jsonl"}]},
        "model": {"flavor": "debug", "overrides": TINY_MODEL},
        "train": {**SETTINGS, **train},
    }
    recipe = recipe_from_dict(data, root)
    run_dir = recipe.run_dir
    write_shards(run_dir / "shards")
    (run_dir / "train").mkdir(parents=True)
    return StageContext(recipe, run_dir, run_dir / "train", key="k", resume=False)


def test_key_ignores_how_training_is_executed(tmp_path: Path) -> None:
    stage = TrainStage()
    a = _context(tmp_path / "a").recipe
    b = _context(tmp_path / "b", nproc=2, parallel="fsdp", threads=2, checkpoint_every=2).recipe
    c = _context(tmp_path / "c", lr=1e-3).recipe
    assert stage.config(a) == stage.config(b) != stage.config(c)
    assert "checkpoints" in stage.digest_exclude


def test_stage_record_one_process(tmp_path: Path) -> None:
    ctx = _context(tmp_path, power_watts=50.0)
    record = TrainStage().run(ctx)
    for key in ("flavor", "params", "params_non_embedding", "steps", "tokens_seen", "first_loss",
                "final_loss", "total_flops", "device_hours", "energy_kwh", "wall_seconds",
                "world_size"):  # fmt: skip
        assert record[key] is not None, key
    assert record["flavor"] == "debug" and record["model"]["vocab_size"] == 64
    assert json.dumps(record)  # JSON-able for the manifest
    for name in ("model.safetensors", "model_config.json", "metrics.jsonl"):
        assert (ctx.out / name).is_file()


def test_stage_with_two_processes_matches_one(tmp_path: Path) -> None:
    train(tiny_job(tmp_path / "ref", **SETTINGS))
    ctx = _context(tmp_path / "stage", nproc=2, parallel="ddp")
    record = TrainStage().run(ctx)
    assert record["world_size"] == 2 and record["parallel"] == "ddp"
    got, want = losses(ctx.out), losses(tmp_path / "ref" / "train")
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 1e-5


@pytest.mark.slow
def test_diverging_training_fails_the_stage_and_nothing_is_released(
    small_run: SmallRun, tmp_path: Path
) -> None:
    """Issue 18.5: a learning rate that makes the loss non-finite used to end in a release."""
    shutil.copytree(small_run.run_dir, tmp_path / "small", ignore=shutil.ignore_patterns(".lock"))
    shutil.rmtree(tmp_path / "small" / "release")
    before = json.loads((tmp_path / "small" / "manifest.json").read_text())
    with pytest.raises(StageError, match=r"^train: training stopped on a non-finite") as err:
        run_pipeline(small_recipe(tmp_path, "train.lr=1e12"))
    assert "\n" not in str(err.value)
    manifest = json.loads((tmp_path / "small" / "manifest.json").read_text())
    assert manifest["stages"]["train"]["status"] == "failed"
    assert "non-finite" in manifest["stages"]["train"]["error"]
    # The copied run's own release entry stays as it was: no release stage ran again.
    assert manifest["stages"]["release"] == before["stages"]["release"]
    assert not (tmp_path / "small" / "release").exists()
    assert not (tmp_path / "small" / "train" / "model.safetensors").exists()
