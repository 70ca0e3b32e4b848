"""The watchdog with a real stalled peer: two gloo ranks, one frozen with SIGSTOP. The other
rank hangs in its collective until the watchdog ends it with the reason "stall" and the
requeue exit code; the job then resumes from the last checkpoint and records the restart."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

from openeurollm.train.loop import train
from openeurollm.train.signals import EXIT_REQUEUE

from .shards import losses, tiny_job
from .test_distributed import _torchrun

WATCHDOG_SECONDS = 4.0


def _ranks(torchrun_pid: int) -> list[int]:
    """The training processes torchrun started (its children running our launcher)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == torchrun_pid and b"openeurollm.train.launch" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _wait(condition, timeout: float, proc) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_frozen_peer_is_a_stall_then_the_job_resumes(tmp_path: Path) -> None:
    job = tiny_job(tmp_path, parallel="ddp", steps=30, checkpoint_every=2,
                   watchdog_seconds=WATCHDOG_SECONDS)  # fmt: skip
    job.save(tmp_path / "job.json")
    out = tmp_path / "train"
    metrics, failure_file = out / "metrics.jsonl", out / "failure.json"
    proc = _torchrun(tmp_path / "job.json")
    frozen = None
    try:
        _wait(lambda: metrics.exists() and len(metrics.read_text().splitlines()) >= 5, 120, proc)
        ranks = _ranks(proc.pid)
        assert len(ranks) == 2
        frozen = ranks[1]
        os.kill(frozen, signal.SIGSTOP)
        stopped_at = time.monotonic()
        _wait(failure_file.exists, 10 * WATCHDOG_SECONDS, proc)
        noticed_after = time.monotonic() - stopped_at
    finally:
        if frozen is not None:
            os.kill(frozen, signal.SIGKILL)  # a stopped process cannot act on torchrun's TERM
    assert proc.wait(timeout=60) != 0
    stderr = proc.stderr.read().decode()
    recorded = json.loads(failure_file.read_text())
    assert recorded["reason"] == "stall" and "watchdog_seconds" in recorded["message"]
    assert WATCHDOG_SECONDS <= noticed_after < 10 * WATCHDOG_SECONDS
    # The surviving rank logged why and left with the requeue code (torchrun itself says 1).
    assert "no training progress" in stderr
    assert re.search(rf"exitcode\s*:\s*{EXIT_REQUEUE}\b", stderr), stderr[-3000:]
    stalled_at = recorded["step"]

    # The requeued job (here on one process) continues from the last checkpoint and keeps
    # the reason in the train record.
    summary = train(job)
    assert summary["steps"] == 30 and summary["resumed_from_step"] <= stalled_at
    assert summary["events"] == [
        {"step": stalled_at, "reason": "stall", "action": "restart",
         "resumed_at_step": summary["resumed_from_step"]},
    ]  # fmt: skip
    assert not failure_file.exists() and len(losses(out)) == 30
