"""Disk full (RLIMIT_FSIZE): the stage fails cleanly, nothing partial is marked done, a rerun succeeds."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from openeurollm.pipeline.manifest import Manifest
from openeurollm.pipeline.runner import run_pipeline

from ..conftest import small_recipe

LIMIT = 64 * 1024  # bytes per file: ingest's shard (~20 KB) fits, curate's outputs do not


def _limit_file_size() -> None:
    # Without ignoring SIGXFSZ the kernel kills the process; ignored, write() fails with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _rows(path: Path) -> int:
    """Rows of a Parquet file, reading every column (a partial file fails here)."""
    return pq.read_table(path).num_rows


def _check_marker(marker: Path) -> str:
    """What a done-marker claims exists, with the counts it states. Returns the task function."""
    done = json.loads(marker.read_text())
    index = int(marker.name.split(".")[0])
    spec = json.loads((marker.parent / "tasks.json").read_text())
    assert done["key"] == spec["key"], marker
    task, stats = spec["tasks"][index], done["stats"]
    args = task["args"]
    if task["fn"].endswith(":ingest_file"):
        shards = [Path(f"{args['out_prefix']}-{i:04d}.parquet") for i in range(stats["shards"])]
        assert sum(_rows(p) for p in shards) == stats["docs"], marker
        lines = Path(args["quarantine_path"]).read_text().splitlines()
        assert len(lines) == sum(stats["quarantined"].values()), marker
    elif task["fn"].endswith(":curate_shard"):
        assert _rows(Path(args["work_path"])) == stats["survivors"], marker
        assert _rows(Path(args["sig_path"])) == stats["survivors"], marker
        assert Path(args["quarantine_path"]).is_file(), marker
    elif task["fn"].endswith(":write_shard"):
        assert _rows(Path(args["out_path"])) == sum(stats["kept"].values()), marker
    else:
        raise AssertionError(f"{marker}: no check for task function {task['fn']}")
    return task["fn"]


def test_disk_full_fails_cleanly_and_rerun_succeeds(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    recipe = small_recipe(root)
    overrides = [f"run.root={root}", "run.name=small", "curate.languages=[de, el, fr, pl, en]",
                 "tokenizer.vocab_size=1200", "train.steps=40", "train.checkpoint_every=20", "train.log_every=5"]  # fmt: skip
    cmd = [
        sys.executable,
        "-m",
        "openeurollm.cli",
        "run",
        str(Path(recipe.base_dir) / "demo.yaml"),
        "--until",
        "mix",
    ]
    for item in overrides:
        cmd += ["--set", item]
    result = subprocess.run(
        cmd, capture_output=True, text=True, preexec_fn=_limit_file_size, timeout=300
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr[-2000:]
    assert "too large" in error_lines[0].lower() or "no space" in error_lines[0].lower()

    manifest = Manifest.load(recipe.run_dir)
    statuses = {name: entry["status"] for name, entry in manifest.stages.items()}
    failed = [name for name, status in statuses.items() if status != "done"]
    assert failed, statuses  # the stage that hit the limit is not marked done
    assert not manifest.is_done("mix")
    # no done-marker claims a task whose output is missing or partial
    checked = [_check_marker(marker) for marker in sorted(recipe.run_dir.rglob("*.done.json"))]
    assert "openeurollm.data.ingest:ingest_file" in checked, checked  # markers were found

    # space is back: the same command continues and the result equals a clean run's
    after = run_pipeline(recipe, until="mix")
    assert after.is_done("mix")
    clean = run_pipeline(small_recipe(tmp_path / "clean"), until="mix")
    assert after.stages["mix"]["output_digest"] == clean.stages["mix"]["output_digest"]
