"""The pipeline on a real local Slurm: the demo recipe's data stages as array jobs (byte-identical
to the local executor), and training through `srun torchrun` with 2 processes that gets Slurm's
time-limit warning, checkpoints, requeues itself and resumes (equal to a local run)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from openeurollm.pipeline.runner import run_pipeline

from ..conftest import SmallRun, small_recipe

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

DATA_STAGES = ("ingest", "curate", "mix", "tokenizer", "shards")
TINY_TRAINING = [
    "model.overrides={dim: 64, n_layers: 2, n_heads: 4, n_kv_heads: 2, ffn_dim: 128}",
    "train.steps=150",
    "train.batch_size=8",
    "train.seq_len=64",
    "train.checkpoint_every=10",
    "train.log_every=1",
    "train.nproc=2",
]
SLURM = [
    "executor.kind=slurm",
    "executor.slurm.poll_seconds=0.5",
    "executor.slurm.signal_seconds=60",
]


@pytest.fixture(scope="module")
def slurm_data_run(local_slurm: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slurm-data")
    run_pipeline(small_recipe(root, *SLURM), until="shards")
    return root


def test_data_stages_through_slurm_match_local(slurm_data_run: Path, small_run: SmallRun) -> None:
    slurm_manifest = json.loads((slurm_data_run / "small" / "manifest.json").read_text())
    for stage in DATA_STAGES:
        ours = slurm_manifest["stages"][stage]
        theirs = small_run.manifest.stages[stage]  # type: ignore[attr-defined]
        assert ours["files"] == theirs["files"], f"{stage} differs between slurm and local"
        assert ours["output_digest"] == theirs["output_digest"]
    for stage in ("ingest", "curate", "shards"):  # the stages that run as array jobs
        logs = list((slurm_data_run / "small" / stage / ".stage-tasks" / "slurm").glob("*_*.log"))
        assert logs, f"{stage} did not run through slurm"


def _losses(train_dir: Path) -> dict[int, float]:
    rows = [
        json.loads(x) for x in (train_dir / "metrics.jsonl").read_text().splitlines() if x.strip()
    ]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def _copy_run(src_root: Path, dst_root: Path) -> None:
    shutil.copytree(src_root / "small", dst_root / "small", ignore=shutil.ignore_patterns(".lock"))


def _assert_same_training(manifest: Any, train_dir: Path, reference: dict[int, float]) -> None:
    """All 150 steps on 2 ranks, with the loss curve of the local run."""
    record = manifest.stages["train"]["record"]
    assert record["steps"] == 150 and record["world_size"] == 2
    losses = _losses(train_dir)
    assert sorted(losses) == sorted(reference)
    for step, loss in reference.items():
        assert abs(losses[step] - loss) < 1e-5, (step, losses[step], loss)


@pytest.fixture(scope="module")
def local_losses(small_run: SmallRun, tmp_path_factory: pytest.TempPathFactory) -> dict[int, float]:
    """The loss curve of the same training run on the local executor (2 processes)."""
    root = tmp_path_factory.mktemp("local-train")
    _copy_run(small_run.root, root)
    local = small_recipe(root, *TINY_TRAINING)
    run_pipeline(local, until="train")
    return _losses(local.run_dir / "train")


def test_srun_torchrun_requeue_and_resume(
    slurm_data_run: Path, local_losses: dict[int, float], tmp_path: Path
) -> None:
    reference = local_losses
    _copy_run(slurm_data_run, tmp_path / "slurm")
    recipe = small_recipe(tmp_path / "slurm", *TINY_TRAINING, *SLURM)
    train_dir = recipe.run_dir / "train"
    warned: list[str] = []

    def warn_when_training() -> None:
        """Play Slurm's time-limit warning once the job has trained a few steps."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if (train_dir / "metrics.jsonl").exists() and len(_losses(train_dir)) >= 10:
                jobs = subprocess.run(
                    ["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True
                ).stdout
                for line in jobs.splitlines():
                    job_id, name = line.split()
                    if name.endswith("-train"):
                        subprocess.run(["scancel", "--batch", "--signal=USR1", job_id], check=True)
                        warned.append(job_id)
                        return
            time.sleep(0.2)

    warner = threading.Thread(target=warn_when_training)
    warner.start()
    manifest = run_pipeline(recipe, until="train")
    warner.join()

    assert warned, "the training job was never seen running"
    log = "".join(p.read_text() for p in sorted((train_dir / "slurm").glob("*.log")))
    assert "stop requested: requeue" in log
    assert "(restart 1)" in log, log[-2000:]  # the same job ran a second time
    assert "resumed from" in log
    _assert_same_training(manifest, train_dir, reference)


def test_srun_torchrun_across_two_nodes(
    slurm_data_run: Path, local_losses: dict[int, float], local_slurm: object, tmp_path: Path
) -> None:
    """One rank on each of two Slurm nodes: the rendezvous is found by node name, and the
    run equals the 2-process local one (the same ranks, the same global batch)."""
    if len(local_slurm.nodes) < 2:  # type: ignore[attr-defined]
        pytest.skip("this host is named localhost: no second node name resolves here")
    _copy_run(slurm_data_run, tmp_path)
    recipe = small_recipe(
        tmp_path, *TINY_TRAINING, *SLURM, "train.nproc=1", "executor.slurm.nodes=2"
    )
    manifest = run_pipeline(recipe, until="train")

    train_dir = recipe.run_dir / "train"
    log = "".join(p.read_text() for p in sorted((train_dir / "slurm").glob("*.log")))
    nodelist = log.split(" on ", 1)[1].split()[0]
    hosts = subprocess.run(
        ["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(hosts) == sorted(local_slurm.nodes), log[-2000:]  # type: ignore[attr-defined]
    assert (
        '--nnodes="$SLURM_NNODES" --nproc_per_node=1'
        in (train_dir / "slurm" / "train.sbatch").read_text()
    )
    _assert_same_training(manifest, train_dir, local_losses)
