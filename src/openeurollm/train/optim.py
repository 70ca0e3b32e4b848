"""The optimizer and the loss the trainer uses (and the benchmark's strong baseline reuses)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from openeurollm.config import TrainConfig


def build_optimizer(model: nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW; weight decay on matrices only (not on norm gains). Fused kernel when supported."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    kwargs: dict[str, Any] = {"lr": cfg.lr, "betas": (cfg.beta1, cfg.beta2), "eps": 1e-8}
    if cfg.tp > 1:
        # Tensor-parallel DTensors beside replicated plain tensors: the fused and foreach
        # kernels take one kind per call, the per-parameter loop takes both.
        return torch.optim.AdamW(groups, foreach=False, **kwargs)
    try:
        return torch.optim.AdamW(groups, fused=device.type in ("cuda", "cpu"), **kwargs)
    except (RuntimeError, ValueError):  # a device or tensor type without the fused kernel
        return torch.optim.AdamW(groups, **kwargs)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss, in fp32 whatever the logits' dtype."""
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
