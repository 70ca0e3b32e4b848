"""What training leaves in its folder besides checkpoints: weights, metrics rows, summary."""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from openeurollm.io.fileio import atomic_open, atomic_path, write_json
from openeurollm.model.args import ModelArgs
from openeurollm.train.parallel import DistInfo

SUMMARY_FILE = "summary.json"


def truncate_metrics(path: Path, step: int) -> None:
    """Keep the rows up to `step` (a resumed run rewrites what came after its checkpoint)."""
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    rows.append(line)
            except ValueError:  # a line cut by a kill
                continue
    with atomic_open(path) as fh:
        fh.write("".join(r + "\n" for r in rows))


def save_weights(model: nn.Module, args: ModelArgs, out: Path, info: DistInfo) -> None:
    """model.safetensors (fp32, our parameter names) + model_config.json, by rank 0.
    Collective: every rank takes part in gathering the full state dict."""
    from safetensors.torch import save_file
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    full = get_model_state_dict(
        model, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
    )
    if not info.is_main:
        return
    tensors = {k: v.detach().float().contiguous().cpu() for k, v in full.items()}
    with atomic_path(out / "model.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt"})
    write_json(out / "model_config.json", args.to_dict())
