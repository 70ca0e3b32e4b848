from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .local_slurm import LocalSlurm, why_unavailable


def _missing(reason: str) -> None:
    """Skip on a developer's machine; under CI a missing prerequisite fails, so a green CI run
    never means the Slurm tests did not run (scripts/system-deps.sh installs Slurm there)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def local_slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlurm]:
    reason = why_unavailable()
    if reason:
        _missing(f"no local Slurm: {reason}")
    # A short path: slurmd's socket paths must stay under the unix socket length limit.
    scratch = Path(tmp_path_factory.mktemp("slurm"))
    slurm = LocalSlurm(scratch)
    try:
        slurm.start()
    except Exception as exc:  # the daemons could not start on this machine
        slurm.stop()
        _missing(f"local Slurm did not start: {exc}")
    yield slurm
    slurm.stop()
