"""Checkpoints with torch.distributed.checkpoint (DCP): train/checkpoints/step-N/.

Tensors (model, optimizer) go through DCP, which saves each rank's shards with their global
layout, so a checkpoint saved by 2 ranks loads into 1 (or 4). The small non-tensor state
(step, scheduler, accounting) is trainer.json, RNG states rng-<rank>.json. A checkpoint is
written under .tmp-step-N and renamed when complete, so `latest()` never sees half of one.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import shutil
import warnings
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import torch
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

from openeurollm.errors import StageError
from openeurollm.io.fileio import file_sha256, write_json
from openeurollm.train.parallel import DistInfo, barrier

log = logging.getLogger("openeurollm")
_STEP_DIR = re.compile(r"^step-(\d+)$")
# Expected when training alone: DCP then writes one process's files.
_SINGLE_PROCESS_WARNING = ".*torch.distributed is disabled.*"


def checkpoints(root: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under `root`, oldest first."""
    found = []
    if root.is_dir():
        for path in root.iterdir():
            m = _STEP_DIR.match(path.name)
            if m and (path / "trainer.json").is_file():
                found.append((int(m.group(1)), path))
    return sorted(found)


def latest(root: Path) -> Path | None:
    found = checkpoints(root)
    return found[-1][1] if found else None


def _rng_state(device: torch.device) -> dict[str, str]:
    states = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return {k: base64.b64encode(v.numpy().tobytes()).decode("ascii") for k, v in states.items()}


def _set_rng_state(states: dict[str, str], device: torch.device) -> None:
    def tensor(text: str) -> torch.Tensor:
        return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)

    torch.set_rng_state(tensor(states["cpu"]))
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(tensor(states["cuda"]), device)


class PendingSave:
    """A checkpoint whose tensors are written (or, in the background, being written). Until
    `finish()` it stays .tmp-step-N, which `latest()` never returns: a kill while it is
    written leaves the checkpoint before it as the newest complete one."""

    def __init__(
        self, root: Path, step: int, future: Any, trainer_state: dict[str, Any], keep_last: int
    ) -> None:
        self.root, self.step, self.future, self.keep_last = root, step, future, keep_last
        # A copy: the trainer goes on changing its state while the tensors are written.
        self.trainer_state = json.loads(json.dumps(trainer_state))

    def written(self) -> bool:
        """This rank's part is on disk (raises the save's error if it failed)."""
        if not self.future.done():
            return False
        self.future.result()
        return True

    def finish(self, info: DistInfo) -> Path:
        """Collective, once every rank's part is written: mark the checkpoint complete.
        Returns the checkpoint folder."""
        self.future.result()
        return _finish(self.root, self.step, self.trainer_state, info, self.keep_last)


def save(
    root: Path,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    trainer_state: dict[str, Any],
    info: DistInfo,
    keep_last: int,
    background: bool = False,
    process_group: Any = None,
) -> PendingSave:
    """Collective: every rank calls it, then `finish()` on what it returns. `background`:
    DCP async_save stages the tensors to host memory and writes them on a thread, with
    `process_group` (a gloo group of its own) so that the writer's collectives never
    interleave with the training step's."""
    tmp = _begin(root, step, info)
    model_sd, optim_sd = get_state_dict(model, optimizer)
    tensors = {"model": model_sd, "optim": optim_sd}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SINGLE_PROCESS_WARNING)
        if background:
            future = dcp.async_save(tensors, checkpoint_id=str(tmp), process_group=process_group)
        else:
            future = Future()
            future.set_result(dcp.save(tensors, checkpoint_id=str(tmp)))
    return PendingSave(root, step, future, trainer_state, keep_last)


def _begin(root: Path, step: int, info: DistInfo) -> Path:
    """A fresh .tmp-step-N with this rank's RNG state (taken now, with the tensors)."""
    tmp = root / f".tmp-step-{step}"
    if info.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    barrier()
    write_json(tmp / f"rng-{info.rank}.json", _rng_state(info.device))
    return tmp


def _finish(
    root: Path, step: int, trainer_state: dict[str, Any], info: DistInfo, keep_last: int
) -> Path:
    final = root / f"step-{step}"
    tmp = root / f".tmp-step-{step}"
    barrier()
    if info.is_main:
        # trainer.json last: its presence marks the checkpoint complete. It carries the
        # checksum of every other file, so a damaged checkpoint is refused, not loaded.
        files = {p.name: file_sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        write_json(
            tmp / "trainer.json",
            {**trainer_state, "world_size": info.world_size, "files": files},
        )
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        for _, old in checkpoints(root)[:-keep_last]:
            shutil.rmtree(old, ignore_errors=True)
        for stale in root.glob(".tmp-step-*"):  # writes a kill cut short
            shutil.rmtree(stale, ignore_errors=True)
    barrier()
    return final


def verify(path: Path) -> None:
    """Check every file of a checkpoint against the checksums recorded when it was saved."""
    recorded = json.loads((path / "trainer.json").read_text(encoding="utf-8")).get("files", {})
    for name, digest in recorded.items():
        target = path / name
        problem = None if target.is_file() else "is missing"
        if problem is None and file_sha256(target) != digest:
            problem = "is corrupted (checksum mismatch)"
        if problem:
            raise StageError(
                f"{target} {problem}; delete {path} to resume from the checkpoint before it, "
                "or rerun with --force train to start over"
            )


def load(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, info: DistInfo
) -> dict[str, Any]:
    """Load into the (already parallelized) model and optimizer; returns the trainer state.
    DCP reshards when the saving and loading world sizes differ."""
    verify(path)
    model_sd, optim_sd = get_state_dict(model, optimizer)
    state = {"model": model_sd, "optim": optim_sd}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SINGLE_PROCESS_WARNING)
        dcp.load(state, checkpoint_id=str(path))
    set_state_dict(
        model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"]
    )
    rng_file = path / f"rng-{info.rank}.json"
    if not rng_file.is_file():  # more ranks now than then: reuse rank 0's stream
        rng_file = path / "rng-0.json"
    _set_rng_state(json.loads(rng_file.read_text(encoding="utf-8")), info.device)
    return json.loads((path / "trainer.json").read_text(encoding="utf-8"))
