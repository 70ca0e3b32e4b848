"""What the planner models: one training configuration (model, batch, precision) on one
layout of GPUs. Plain data, built from a recipe by `plan.build` or by hand in tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openeurollm.model.args import ModelArgs

Precision = Literal["fp32", "bf16", "float8"]
Checkpointing = Literal["none", "selective", "full"]


@dataclass(frozen=True)
class Layout:
    """How `gpus` devices split the work: tensor x pipeline model parallelism, the rest data
    parallel (replicated under DDP, sharded under FSDP)."""

    gpus: int
    strategy: Literal["none", "ddp", "fsdp"] = "fsdp"
    tp: int = 1
    pp: int = 1
    gpus_per_node: int = 8

    def __post_init__(self) -> None:
        if self.gpus % (self.tp * self.pp):
            raise ValueError(
                f"{self.gpus} GPUs do not split into tensor x pipeline groups of "
                f"{self.tp} x {self.pp}"
            )

    @property
    def dp(self) -> int:
        return self.gpus // (self.tp * self.pp)


@dataclass(frozen=True)
class Setup:
    """One rank's view of a training step."""

    args: ModelArgs
    seq_len: int
    micro_batch: int  # sequences per rank per forward/backward
    grad_accum: int = 1
    precision: Precision = "bf16"  # float8: block linears in float8, the rest bf16
    compile: bool = True
    checkpointing: Checkpointing = "none"
    flash_attention: bool = True  # False: attention probabilities are materialised (CPU math)

    @property
    def tokens_per_micro_batch(self) -> int:
        return self.micro_batch * self.seq_len
