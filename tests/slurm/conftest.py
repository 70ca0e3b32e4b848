from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .local_slurm import LocalSlurm, why_unavailable


@pytest.fixture(scope="session")
def local_slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlurm]:
    reason = why_unavailable()
    if reason:
        pytest.skip(f"no local Slurm: {reason}")
    # A short path: slurmd's socket paths must stay under the unix socket length limit.
    scratch = Path(tmp_path_factory.mktemp("slurm"))
    slurm = LocalSlurm(scratch)
    try:
        slurm.start()
    except Exception as exc:  # the daemons could not start on this machine
        slurm.stop()
        pytest.skip(f"local Slurm did not start: {exc}")
    yield slurm
    slurm.stop()
