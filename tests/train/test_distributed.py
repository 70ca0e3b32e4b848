"""Real multi-process training on gloo: DDP and FSDP2 match one process for the same global
batch; a 2-rank run stopped by SIGTERM resumes on 1 rank (DCP resharding)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openeurollm.train.loop import train

from .shards import losses, tiny_job

SETTINGS = dict(steps=8, batch_size=8, grad_accum=2, checkpoint_every=3)


def _torchrun(job_file: Path, nproc: int = 2) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={nproc}", "-m", "openeurollm.train.launch", "--job", str(job_file)]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[float]:
    root = tmp_path_factory.mktemp("one-process")
    train(tiny_job(root, **SETTINGS))
    return losses(root / "train")


def _assert_close(got: list[float], want: list[float]) -> None:
    assert len(got) == len(want)
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 1e-5, (got, want)


# DDP through the stage's torchrun path is in test_stage.py.
@pytest.mark.parametrize("parallel", ["fsdp"])
def test_two_processes_match_one(tmp_path: Path, reference: list[float], parallel: str) -> None:
    job = tiny_job(tmp_path, parallel=parallel, **SETTINGS)
    job.save(tmp_path / "job.json")
    proc = _torchrun(tmp_path / "job.json")
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()[-3000:]
    _assert_close(losses(tmp_path / "train"), reference)
    summary = (tmp_path / "train" / "summary.json").read_text()
    assert f'"parallel": "{parallel}"' in summary and '"world_size": 2' in summary


def test_sigterm_on_two_ranks_then_resume_on_one(tmp_path: Path) -> None:
    settings = {**SETTINGS, "steps": 60, "checkpoint_every": 20}
    train(tiny_job(tmp_path / "ref", **settings))
    expected = losses(tmp_path / "ref" / "train")

    job = tiny_job(tmp_path / "run", parallel="fsdp", **settings)
    job.save(tmp_path / "job.json")
    metrics = tmp_path / "run" / "train" / "metrics.jsonl"
    proc = _torchrun(tmp_path / "job.json")
    deadline = time.monotonic() + 90
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3):
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)  # torchrun passes it on to both ranks
    assert proc.wait(timeout=60) != 0  # torchrun reports the ranks' EXIT_REQUEUE as a failure
    stopped = len(losses(tmp_path / "run" / "train"))
    assert 3 <= stopped < 60
    assert (tmp_path / "run" / "train" / "checkpoints" / f"step-{stopped}").is_dir()
    assert not (tmp_path / "run" / "train" / "summary.json").exists()

    # The same job on one process continues from the 2-rank sharded checkpoint.
    summary = train(job)
    assert summary["resumed_from_step"] == stopped and summary["world_size"] == 1
    _assert_close(losses(tmp_path / "run" / "train"), expected)
