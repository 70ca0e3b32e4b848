"""Cluster profiles load as recipe includes, and --dry-run prints the job scripts without Slurm."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openeurollm.config import load_recipe

from ..conftest import REPO

PROFILES = sorted((REPO / "recipes" / "clusters").glob("*.yaml"))


def _recipe_with(tmp_path: Path, profile: Path) -> Path:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"include: {profile}\n"
        f"run: {{name: dry, root: {tmp_path / 'runs'}}}\n"
        f"ingest: {{inputs: [{{path: {REPO / 'data/demo/corpus'}/*.jsonl}}]}}\n"
        "curate: {filters: []}\n"
    )
    return recipe


def test_there_are_profiles_for_the_big_three() -> None:
    assert {p.stem for p in PROFILES} >= {"leonardo", "lumi", "jupiter"}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_profile_dry_run_prints_scripts(tmp_path: Path, profile: Path) -> None:
    recipe = load_recipe(_recipe_with(tmp_path, profile))
    cfg = recipe.executor.slurm
    assert recipe.executor.kind == "slurm" and cfg.account and cfg.gpus_per_node > 0
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openeurollm.cli",
            "run",
            str(_recipe_with(tmp_path, profile)),
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"#SBATCH --partition={cfg.partition}" in out
    assert f"#SBATCH --account={cfg.account}" in out
    assert "#SBATCH --array=0-" in out and f"%{cfg.array_throttle}" in out
    assert all(line in out for line in cfg.setup)
    assert f"#SBATCH --partition={cfg.train_partition}" in out  # the training job
    assert "torch.distributed.run" in out and f"--signal=B:USR1@{cfg.signal_seconds}" in out
    assert f"--gpus-per-node={cfg.gpus_per_node}" in out
    assert f"--nproc_per_node={cfg.gpus_per_node}" in out  # one rank per GPU
    train = out[out.index("# ---- train") :]
    assert f"#SBATCH --cpus-per-task={cfg.train_cpus_per_node}" in train  # the whole node
    assert f"#SBATCH --mem={cfg.train_mem}" in train
    if cfg.mem:
        assert f"#SBATCH --mem={cfg.mem}" in out[: out.index("# ---- train")]
    assert not (tmp_path / "runs" / "dry" / "ingest").exists()  # nothing ran


def test_container_jobs_run_the_image_python(tmp_path: Path) -> None:
    """Inside an image the login node's venv does not exist: without a `python` of the
    profile's own, jobs run the image's python3 (data tasks, and torchrun with GPUs)."""
    from openeurollm.pipeline.slurm import array_script, train_script

    lumi = REPO / "recipes" / "clusters" / "lumi.yaml"
    recipe = load_recipe(_recipe_with(tmp_path, lumi), ["executor.slurm.python=null"])
    image = recipe.executor.slurm.container
    assert image and recipe.executor.slurm.gpu_vendor == "amd"
    tasks = array_script(recipe, tmp_path / "t" / ".stage-tasks", None, 3)
    assert f"exec singularity exec {image} python3 -m openeurollm.pipeline.tasks" in tasks
    train = train_script(recipe, tmp_path / "train", tmp_path / "train" / "job.json", 8)
    assert f"singularity exec --rocm {image} python3 -m torch.distributed.run" in train

    given = load_recipe(_recipe_with(tmp_path, lumi))  # the profile names its venv
    assert f"{image} {given.executor.slurm.python} -m" in array_script(given, tmp_path, None, 1)
