"""Read the model tensors of a Megatron-LM / Megatron-Core GPT checkpoint without megatron-core.

Two formats, both without unpickling arbitrary objects:
- `torch_dist` (Megatron's default): a torch.distributed.checkpoint folder plus
  `metadata.json` and `common.pt`. Per-layer tensors are stacked along a leading layer axis
  under `decoder.layers.<name>`, whatever the tensor/pipeline parallelism was when saving.
- `torch` (legacy): `mp_rank_00/model_optim_rng.pt`, a `torch.save` dict whose `model` holds
  `decoder.layers.<i>.<name>`; read with `torch.load(weights_only=True)`, one rank only.
A checkpoint root with `latest_checkpointed_iteration.txt` resolves to its newest iteration.
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from openeurollm.errors import InputError

_EXTRA = "_extra_state"


@dataclass
class MegatronCheckpoint:
    path: Path  # the iteration folder (torch_dist) or .pt file (torch) actually read
    format: str  # "torch_dist" or "torch"
    tensors: dict[str, torch.Tensor]
    saved_args: dict[str, Any] | None  # Megatron-LM's argparse values, when saved and safe


def _iteration_dir(path: Path) -> Path:
    tracker = path / "latest_checkpointed_iteration.txt"
    if not tracker.is_file():
        return path
    value = tracker.read_text(encoding="utf-8").strip()
    return path / ("release" if value == "release" else f"iter_{int(value):07d}")


def _safe_torch_load(path: Path) -> Any:
    """torch.load with weights_only=True; argparse.Namespace (Megatron-LM's saved `args`) is
    the one class allowed beyond tensors and plain containers."""
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling refusal becomes one line
        # torch's message is a page of advice; its "Unsupported global: ..." line names the
        # class that would have to be trusted.
        found = [ln for ln in str(exc).splitlines() if "Unsupported global: GLOBAL " in ln]
        why = (
            "it needs " + found[0].split("GLOBAL ")[1].split(" ")[0]
            if found
            else type(exc).__name__
        )
        raise InputError(
            f"{path} cannot be loaded without unpickling arbitrary objects ({why}); "
            "save the checkpoint with --ckpt-format torch_dist"
        ) from None


def _namespace_dict(value: Any) -> dict[str, Any] | None:
    return vars(value) if isinstance(value, argparse.Namespace) else None


def _read_torch_dist(folder: Path) -> MegatronCheckpoint:
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.metadata import TensorStorageMetadata

    reader = dcp.FileSystemReader(str(folder))
    state: dict[str, torch.Tensor] = {
        key: torch.empty(meta.size, dtype=meta.properties.dtype)
        for key, meta in reader.read_metadata().state_dict_metadata.items()
        if isinstance(meta, TensorStorageMetadata) and not key.endswith(_EXTRA)
    }
    with warnings.catch_warnings():
        # One process, no process group: what we mean to do.
        warnings.filterwarnings("ignore", message=".*torch.distributed is disabled.*")
        dcp.load(state, storage_reader=reader)
    common = folder / "common.pt"
    saved = None
    if common.is_file():
        try:
            saved = _namespace_dict(_safe_torch_load(common).get("args"))
        except InputError:
            saved = None  # the weights do not need it; --args can give the shape
    return MegatronCheckpoint(folder, "torch_dist", state, saved)


def _read_torch(file: Path) -> MegatronCheckpoint:
    data = _safe_torch_load(file)
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, dict):
        raise InputError(f"{file} holds no 'model' state dict")
    tensors = {
        k: v for k, v in model.items() if isinstance(v, torch.Tensor) and not k.endswith(_EXTRA)
    }
    return MegatronCheckpoint(file, "torch", tensors, _namespace_dict(data.get("args")))


def read_checkpoint(path: Path) -> MegatronCheckpoint:
    """The model tensors of the checkpoint at `path` (a root, an iteration folder or a .pt)."""
    path = Path(path)
    if path.is_file():
        return _read_torch(path)
    if not path.is_dir():
        raise InputError(f"{path}: no such Megatron checkpoint")
    folder = _iteration_dir(path)
    metadata = folder / "metadata.json"
    if metadata.is_file():
        backend = json.loads(metadata.read_text(encoding="utf-8")).get("sharded_backend")
        if backend != "torch_dist":
            raise InputError(f"{folder}: sharded backend {backend!r}; only torch_dist is read")
        return _read_torch_dist(folder)
    ranks = sorted(p.name for p in folder.glob("mp_rank_*"))
    if ranks == ["mp_rank_00"]:
        return _read_torch(folder / "mp_rank_00" / "model_optim_rng.pt")
    if ranks:
        raise InputError(
            f"{folder} is a legacy checkpoint split over {len(ranks)} model-parallel ranks; "
            "save it with --ckpt-format torch_dist (any parallelism) to import it"
        )
    raise InputError(f"{folder} has neither metadata.json (torch_dist) nor mp_rank_00 (torch)")
