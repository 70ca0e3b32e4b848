"""SIGTERM / SIGUSR1 -> finish the current step, checkpoint, exit with EXIT_REQUEUE.

Slurm sends SIGUSR1 (with `--signal=USR1@N`) shortly before the time limit and SIGTERM on
cancellation or preemption; torchrun forwards SIGTERM to its workers. The handler only sets a
flag: the loop checks it between optimizer steps (agreed across ranks), so a checkpoint is
never taken in the middle of a step.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

# "Interrupted after saving a checkpoint; run the same command again to continue"
# (EX_TEMPFAIL). A Slurm job script requeues on this code: `[ $? -eq 75 ] && scontrol requeue`.
EXIT_REQUEUE = 75

HANDLED = (signal.SIGTERM, signal.SIGUSR1)

# A file in the train folder that asks for the same stop as SIGUSR1. The Slurm batch script
# creates it when Slurm warns of the time limit, so the ranks checkpoint on their own time
# instead of racing torchrun's shutdown timeout (signals sent through srun and torchrun
# arrive late or not at all).
STOP_FILE = ".stage-stop"


class StopFlag:
    def __init__(self, stop_file: Path | None = None) -> None:
        self.signum: int | None = None
        self.stop_file = stop_file

    def __bool__(self) -> bool:
        if self.signum is None and self.stop_file is not None and self.stop_file.exists():
            self.signum = signal.SIGUSR1
        return self.signum is not None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum


@contextmanager
def stop_on_signals(stop_file: Path | None = None) -> Iterator[StopFlag]:
    """Install the handlers for the duration of the block (main thread only), then restore.
    The flag is also raised when `stop_file` appears."""
    flag = StopFlag(stop_file)
    previous = {}
    try:
        for sig in HANDLED:
            previous[sig] = signal.signal(sig, flag._handler)
    except ValueError:  # not the main thread: signals cannot be caught here
        pass
    try:
        yield flag
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Interrupted(Exception):
    """Training stopped on a signal after saving a checkpoint at `step`."""

    def __init__(self, signum: int, step: int) -> None:
        super().__init__(
            f"stopped by {signal.Signals(signum).name} after step {step}; checkpoint saved, "
            "run the same command again to continue"
        )
        self.signum = signum
        self.step = step
