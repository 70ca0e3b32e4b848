"""Tensor parallelism (DTensor, with sequence parallelism) on real gloo processes: TP=2 and
FSDP2 x TP = 2 x 2 give one process's losses; a checkpoint saved under TP=2 resumes under
FSDP2=2 on the same curve; a layout that does not fit is refused when the recipe loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from openeurollm.config import TrainConfig, recipe_from_dict
from openeurollm.errors import RecipeError
from openeurollm.train.loop import train

from .shards import TINY_MODEL, losses, tiny_job
from .test_distributed import _torchrun

# A constant schedule after warm-up, so that a run of 10 steps is the first half of 20.
SETTINGS = dict(steps=20, batch_size=8, grad_accum=2, checkpoint_every=5, schedule="constant")
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[float]:
    root = tmp_path_factory.mktemp("one-process")
    train(tiny_job(root, **SETTINGS))
    return losses(root / "train")


def _run(root: Path, nproc: int, **train_settings: object) -> list[float]:
    job = tiny_job(root, **{**SETTINGS, "nproc": nproc, **train_settings})
    job.save(root / "job.json")
    proc = _torchrun(root / "job.json", nproc)
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()[-3000:]
    return losses(root / "train")


def _assert_close(got: list[float], want: list[float]) -> None:
    assert len(got) == len(want)
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < TOLERANCE, (got, want)


def test_tp2_matches_one_process(tmp_path: Path, reference: list[float]) -> None:
    _assert_close(_run(tmp_path, 2, tp=2), reference)
    summary = (tmp_path / "train" / "summary.json").read_text()
    assert '"parallel": "tp"' in summary and '"tensor_parallel": 2' in summary


@pytest.mark.slow
def test_fsdp2_x_tp2_on_four_processes_matches_one(tmp_path: Path, reference: list[float]) -> None:
    _assert_close(_run(tmp_path, 4, tp=2, parallel="fsdp"), reference)
    assert '"parallel": "fsdp+tp"' in (tmp_path / "train" / "summary.json").read_text()


def test_checkpoint_under_tp2_resumes_under_fsdp2(tmp_path: Path, reference: list[float]) -> None:
    first = _run(tmp_path, 2, tp=2, steps=10)
    _assert_close(first, reference[:10])
    # The same run continued with another layout: DCP reshards the TP checkpoint for FSDP2.
    both = _run(tmp_path, 2, parallel="fsdp")
    _assert_close(both, reference)
    assert '"resumed_from_step": 10' in (tmp_path / "train" / "summary.json").read_text()


@pytest.mark.parametrize(
    ("train_settings", "message"),
    [
        ({"nproc": 2, "tp": 3}, r"tp \(3\) must divide nproc \(2\)"),
        ({"nproc": 4, "tp": 2, "parallel": "ddp", "batch_size": 8},
         r"tp \(2\) with 2 data-parallel group\(s\) needs parallel: fsdp"),
        ({"nproc": 4, "tp": 4, "batch_size": 8}, r"train.tp \(4\) must divide the model's n_kv_heads \(2\)"),
    ],
)  # fmt: skip
def test_bad_layout_is_refused_at_load(tmp_path: Path, train_settings: dict, message: str) -> None:
    (tmp_path / "in.jsonl").write_text('{"text": "x", "lang": "de"}\n')
    data = {
        "run": {"name": "t", "root": str(tmp_path / "runs")},
        "ingest": {"inputs": [{"path": "in.jsonl"}]},
        "model": {"flavor": "debug", "overrides": TINY_MODEL},
        "train": train_settings,
    }
    with pytest.raises(RecipeError, match=message) as err:
        recipe_from_dict(data, tmp_path)
    assert "train" in str(err.value)
    assert TrainConfig(nproc=4, tp=2, parallel="fsdp", batch_size=8).tp == 2  # a good one loads
