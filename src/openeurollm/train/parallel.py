"""Everything that wraps the model from outside: process group, device mesh, tensor
parallelism (train/tensor_parallel.py), activation checkpointing, torch.compile, DDP or FSDP2,
and mixed precision. The model file stays plain."""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def select_device(preference: str, local_rank: int = 0) -> torch.device:
    if preference == "cuda" or (preference == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("train.device is cuda but no CUDA device is available")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


# Set by torchrun (and so by `srun torchrun` and the train stage's own torchrun) for each
# worker it starts. Only then do RANK and WORLD_SIZE describe a process group to join: left
# over in a shell (`export WORLD_SIZE=2`), they made a one-process run wait forever for a
# second rank.
LAUNCHED_BY_TORCHRUN = "TORCHELASTIC_RUN_ID"


def init_distributed(device_preference: str) -> DistInfo:
    """Join the process group torchrun (or srun torchrun) describes in RANK/WORLD_SIZE/
    MASTER_ADDR; a lone process (no WORLD_SIZE, or 1, or not started by torchrun) runs
    without one."""
    launched = LAUNCHED_BY_TORCHRUN in os.environ
    world = int(os.environ.get("WORLD_SIZE", "1")) if launched else 1
    rank = int(os.environ.get("RANK", "0")) if launched else 0
    local_rank = int(os.environ.get("LOCAL_RANK", "0")) if launched else 0
    if not launched and os.environ.get("WORLD_SIZE", "1") != "1":
        logging.getLogger("openeurollm").warning(
            "train: ignoring WORLD_SIZE=%s in the environment: this process was not started "
            "by torchrun, so it trains alone",
            os.environ["WORLD_SIZE"][:20],
        )
    device = select_device(device_preference, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=30))
    return DistInfo(rank, world, local_rank, device)


def close_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce(tensor: torch.Tensor, op: str = "avg") -> torch.Tensor:
    """In place across ranks (a no-op alone). gloo has no AVG, so average is sum / world."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        reduce_op = {"avg": dist.ReduceOp.SUM, "sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX}
        dist.all_reduce(tensor, op=reduce_op[op])
        if op == "avg":
            tensor /= dist.get_world_size()
    return tensor


def barrier() -> None:
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


def apply_activation_checkpointing(model: nn.Module) -> None:
    """Recompute each block's activations in backward. Replaces the block's forward on the
    instance, so parameter names (and thus checkpoints and exports) do not change."""
    from torch.utils.checkpoint import checkpoint

    for block in model.layers:  # type: ignore[union-attr]
        block.forward = functools.partial(checkpoint, block.forward, use_reentrant=False)


def apply_compile(model: nn.Module, scope: str = "blocks") -> None:
    """Compile in place (parameter names do not change). "blocks": block by block, all blocks
    sharing one graph, so compile time stays flat in depth; "model": one graph for the whole
    forward, which also fuses the embedding, final norm and output head."""
    if scope == "model":
        model.compile(dynamic=False)
        return
    for block in model.layers:  # type: ignore[union-attr]
        block.compile(dynamic=False)


def apply_fsdp(model: nn.Module, bf16: bool, mesh: Any = None) -> None:
    """FSDP2 per block, then the rest; `mesh`: the dp_shard dimension of a 2-D mesh."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    mp = MixedPrecisionPolicy(
        param_dtype=torch.bfloat16 if bf16 else torch.float32, reduce_dtype=torch.float32
    )
    for block in model.layers:  # type: ignore[union-attr]
        fully_shard(block, mesh=mesh, mp_policy=mp)
    fully_shard(model, mesh=mesh, mp_policy=mp)


def device_mesh(cfg: Any, info: DistInfo) -> Any:
    """The (dp_shard, tp) mesh over all ranks, tp fastest: the ranks of one tensor-parallel
    group are neighbours (one node, the fast links)."""
    from torch.distributed.device_mesh import init_device_mesh

    if info.world_size % cfg.tp:
        raise ValueError(f"train.tp ({cfg.tp}) must divide the world size ({info.world_size})")
    shape = (info.world_size // cfg.tp, cfg.tp)
    return init_device_mesh(info.device.type, shape, mesh_dim_names=("dp_shard", "tp"))


def parallelize(model: nn.Module, cfg: Any, info: DistInfo) -> nn.Module:
    """Tensor parallel, activation checkpointing, compile, then DDP or FSDP2 (torchtitan's
    order)."""
    strategy = parallel_strategy(cfg, info.world_size)
    mesh = None
    if cfg.tp > 1:
        from openeurollm.train.tensor_parallel import apply_tensor_parallel

        mesh = device_mesh(cfg, info)
        apply_tensor_parallel(model, mesh["tp"])
    if cfg.activation_checkpointing:
        apply_activation_checkpointing(model)
    if cfg.compile:
        apply_compile(model, cfg.compile_scope)
    if strategy in ("fsdp", "fsdp+tp"):
        apply_fsdp(model, bf16=cfg.dtype == "bf16", mesh=None if mesh is None else mesh["dp_shard"])
    elif strategy == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        ids = [info.device.index] if info.device.type == "cuda" else None
        model = DistributedDataParallel(model, device_ids=ids)
    return model


def parallel_strategy(cfg: Any, world_size: int) -> str:
    """none, ddp, fsdp, tp (all ranks one tensor-parallel group) or fsdp+tp."""
    if world_size == 1:
        return "none"
    if cfg.tp > 1:
        return "tp" if cfg.tp == world_size else "fsdp+tp"
    return "ddp" if cfg.parallel == "none" else cfg.parallel


def autocast(cfg: Any, info: DistInfo) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast, except under FSDP2 whose mixed-precision policy casts the parameters."""
    if cfg.dtype != "bf16" or parallel_strategy(cfg, info.world_size).startswith("fsdp"):
        return contextlib.nullcontext()
    return torch.autocast(info.device.type, dtype=torch.bfloat16)


def attention_kernel(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """On CPU, the plain (math) attention: at training sequence lengths it is as fast as the CPU
    flash kernel in fp32 and several times faster in bf16, whose flash backward is slow."""
    if device.type != "cpu":
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([SDPBackend.MATH])


@contextlib.contextmanager
def gradient_sync(model: nn.Module, enabled: bool) -> Any:
    """Skip the gradient all-reduce on all but the last micro-batch of an accumulation."""
    if enabled:
        yield
        return
    if hasattr(model, "no_sync"):  # DDP
        with model.no_sync():
            yield
        return
    if hasattr(model, "set_requires_gradient_sync"):  # FSDP2
        model.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            model.set_requires_gradient_sync(True)
        return
    yield
