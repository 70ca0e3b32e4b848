"""Load the trained model (train/model.safetensors + model_config.json) and checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from openeurollm.errors import StageError
from openeurollm.model.args import ModelArgs
from openeurollm.model.llama import Transformer


def read_model_args(path: Path) -> ModelArgs:
    """ModelArgs from model_config.json (flat, or with the dimensions under "model")."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StageError(f"cannot read {path}: {exc}") from None
    if isinstance(data.get("model"), dict):
        data = data["model"]
    fields = set(ModelArgs.field_names())
    return ModelArgs.from_dict({k: v for k, v in data.items() if k in fields})


def load_trained(train_dir: Path, device: str | torch.device = "cpu") -> Transformer:
    """The final weights the train stage wrote, in a model ready for inference."""
    args = read_model_args(train_dir / "model_config.json")
    model = Transformer(args)
    weights = train_dir / "model.safetensors"
    if not weights.is_file():
        raise StageError(f"{weights} is missing; rerun with --force train")
    missing, unexpected = model.load_state_dict(load_file(str(weights)), strict=False)
    if missing or unexpected:
        raise StageError(
            f"{weights} does not fit model_config.json (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})"
        )
    return model.to(device).eval()


def load_checkpoint(step_dir: Path, model: Transformer) -> Transformer:
    """Load the model tensors of a torch.distributed.checkpoint folder (optimizer skipped)."""
    import warnings

    import torch.distributed.checkpoint as dcp

    state = {"model": model.state_dict()}
    with warnings.catch_warnings():
        # Loading in one process without a process group is what we mean to do.
        warnings.filterwarnings("ignore", message=".*torch.distributed is disabled.*")
        dcp.load(state, checkpoint_id=str(step_dir))
    model.load_state_dict(state["model"])
    return model.eval()
