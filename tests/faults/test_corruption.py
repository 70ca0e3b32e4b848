"""Corrupted intermediates are caught by checksums recorded at write time, with the file named
and the way to recover; the bad data is never used."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from openeurollm.errors import StageError
from openeurollm.pipeline.runner import run_pipeline

from ..conftest import SmallRun, small_recipe
from .conftest import FAULTS

pytestmark = pytest.mark.slow


def _copy(small_run: SmallRun, tmp_path: Path) -> Path:
    shutil.copytree(small_run.run_dir, tmp_path / "small", ignore=shutil.ignore_patterns(".lock"))
    return tmp_path / "small"


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


def test_truncated_parquet_shard_is_refused(small_run: SmallRun, tmp_path: Path) -> None:
    run = _copy(small_run, tmp_path)
    shard = sorted((run / "curate" / "docs").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(StageError) as err:
        run_pipeline(small_recipe(tmp_path))
    message = str(err.value)
    assert str(shard) in message and "--force curate" in message
    FAULTS["corruptions_detected"] += 1


def test_flipped_byte_in_token_shard_is_refused(small_run: SmallRun, tmp_path: Path) -> None:
    run = _copy(small_run, tmp_path)
    shard = sorted((run / "shards").rglob("*.bin"))[0]
    _flip_byte(shard, 1234)
    with pytest.raises(StageError) as err:
        run_pipeline(small_recipe(tmp_path))
    assert str(shard) in str(err.value) and "--force shards" in str(err.value)
    FAULTS["corruptions_detected"] += 1
    # the recovery the message names works, and gives back the original bytes
    manifest = run_pipeline(small_recipe(tmp_path), force=("shards",))
    assert (
        manifest.stages["shards"]["output_digest"]
        == small_run.manifest.stages["shards"]["output_digest"]
    )  # type: ignore[attr-defined]


def test_flipped_byte_in_checkpoint_is_refused(small_run: SmallRun, tmp_path: Path) -> None:
    from openeurollm.train import checkpoint

    run = _copy(small_run, tmp_path)
    latest = checkpoint.latest(run / "train" / "checkpoints")
    assert latest is not None
    checkpoint.verify(latest)  # intact: passes
    target = max(
        (p for p in latest.iterdir() if p.name != "trainer.json"), key=lambda p: p.stat().st_size
    )
    _flip_byte(target, 4321)
    with pytest.raises(StageError) as err:
        checkpoint.verify(latest)
    assert str(target) in str(err.value) and "checksum mismatch" in str(err.value)
    FAULTS["corruptions_detected"] += 1
