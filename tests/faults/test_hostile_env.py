"""Unlucky environments and broken values (issue 18, items 5, 6 and 16): a leftover
WORLD_SIZE, a NaN on its way into a JSON file, a setting that makes curation raise."""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from openeurollm.data.curate_errors import check_error_rate
from openeurollm.io.fileio import NonFiniteJSONError, write_json

from ..conftest import REPO


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_leftover_world_size_does_not_hang_a_single_process() -> None:
    """was: `WORLD_SIZE=2` left in the shell made a `train.nproc: 1` run wait for a second
    rank forever; only our launcher under torchrun joins a process group."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "WORLD_SIZE": "2",
        "RANK": "0",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
    }
    code = (
        "from openeurollm.train.parallel import init_distributed, close_distributed\n"
        "import torch.distributed as dist\n"
        "info = init_distributed('cpu')\n"
        "print(info.world_size, info.rank, dist.is_initialized())\n"
        "close_distributed()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["1", "0", "False"]
    assert "ignoring WORLD_SIZE=2" in result.stderr


def test_nan_never_reaches_a_json_file(tmp_path: Path) -> None:
    target = tmp_path / "eval_results.json"
    for bad in (math.nan, math.inf, {"loss": [1.0, -math.inf]}):
        with pytest.raises(NonFiniteJSONError, match=re.escape(str(target))):
            write_json(target, bad)
        assert not target.exists()  # nothing half-written, no bare NaN
        assert not list(tmp_path.iterdir())
    write_json(target, {"loss": 1.5})
    assert json.loads(target.read_text()) == {"loss": 1.5}


def test_curate_fails_when_errors_not_inputs_quarantine_documents() -> None:
    # was: `min_words: "50"` quarantined all 823 documents as curate_error:TypeError, exit 0
    with pytest.raises(ValueError, match=r"823 of 823 documents failed .*curate_error:TypeError"):
        check_error_rate(823, {"curate_error:TypeError": 823})
    with pytest.raises(ValueError, match="more than 1%"):
        check_error_rate(1000, {"curate_error:KeyError": 11, "unreadable": 500})
    # a few pathological documents, and any number of bad inputs, are tolerated
    check_error_rate(1000, {"curate_error:RecursionError": 10, "unreadable": 900})
    check_error_rate(10, {"curate_error:ValueError": 3})
