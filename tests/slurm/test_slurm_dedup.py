"""Dedup tasks as Slurm array jobs on the local two-node Slurm: the same kept set and
cluster statistics as the single-process dedup, and as the local executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.helpers import write_key_shards
from tests.data.test_dedup_tasks import context, run_split, single

pytestmark = pytest.mark.slurm


def test_dedup_tasks_through_slurm_equal_single_process(
    local_slurm: object, tmp_path: Path
) -> None:
    keys = write_key_shards(tmp_path / "keys", shards=3, per_shard=40)
    ref_stats, ref_drops = single(keys)
    stats, drops, files = run_split(context(tmp_path, "slurm", "slurm"), keys, band_groups=3)
    assert drops == ref_drops
    assert stats["exact"] == ref_stats["exact"] and stats["near"] == ref_stats["near"]
    _, _, local_files = run_split(context(tmp_path, "local", "local"), keys, band_groups=3)
    assert files == local_files
    run = tmp_path / "runs" / "slurm" / "curate" / ".stage-work" / "dedup"
    for step in ("find", "merge"):
        assert list((run / step / ".stage-tasks" / "slurm").glob("*_*.log")), step
