"""Tensor parallelism with sequence parallelism (DTensor `parallelize_module`), applied to the
plain model from outside, in the Megatron / torchtitan layout:

- between blocks the residual stream is sharded over the sequence (Shard(1)), so the norms
  (RMSNorm, sequence-parallel) and the residual adds work on 1/tp of the tokens;
- attention: wq/wk/wv column-parallel (each rank owns n_heads/tp query heads and
  n_kv_heads/tp key/value heads), wo row-parallel with a reduce-scatter back to Shard(1);
  QK-norm gains act on the local heads (sequence-parallel over the head dimension);
- MLP: w1/w3 column-parallel, w2 row-parallel with a reduce-scatter back to Shard(1).

Embeddings, the final norm and the output head stay replicated: the residual stream enters
the first block replicated and leaves the final norm gathered. That keeps tied embeddings
possible and the model file unaware of TP; only the heads per rank (attributes of the
attention modules) are set here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.tensor import DTensor, Replicate, Shard
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    PrepareModuleOutput,
    RowwiseParallel,
    SequenceParallel,
    parallelize_module,
)


def apply_tensor_parallel(model: nn.Module, tp_mesh: DeviceMesh) -> None:
    tp = tp_mesh.size()
    # The residual stream goes in replicated and becomes sequence-sharded at the first block;
    # between modules it travels as each rank's local chunk of the sequence (torchtitan's
    # way). Rope tables (the other two inputs) are plain tensors every rank computes alike.
    parallelize_module(
        model.layers[0],  # type: ignore[index]
        tp_mesh,
        PrepareModuleInput(
            input_layouts=(Replicate(), None, None),
            desired_input_layouts=(Shard(1), None, None),
            use_local_output=True,
        ),
    )
    for block in model.layers:  # type: ignore[union-attr]
        plan = {
            "attention_norm": SequenceParallel(),
            "attention": PrepareModuleInput(
                input_layouts=(Shard(1), None, None),
                desired_input_layouts=(Replicate(), None, None),
            ),
            "attention.wq": ColwiseParallel(),
            "attention.wk": ColwiseParallel(),
            "attention.wv": ColwiseParallel(),
            "attention.wo": RowwiseParallel(output_layouts=Shard(1)),
            "ffn_norm": SequenceParallel(),
            "feed_forward": PrepareModuleInput(
                input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)
            ),
            "feed_forward.w1": ColwiseParallel(),
            "feed_forward.w3": ColwiseParallel(),
            "feed_forward.w2": RowwiseParallel(output_layouts=Shard(1)),
        }
        if block.attention.q_norm is not None:
            # (batch, seq, local heads, head_dim): the heads dimension is the sharded one.
            plan["attention.q_norm"] = SequenceParallel(sequence_dim=2, use_local_output=True)
            plan["attention.k_norm"] = SequenceParallel(sequence_dim=2, use_local_output=True)
        parallelize_module(block, tp_mesh, plan)
        block.attention.n_heads //= tp
        block.attention.n_kv_heads //= tp
    parallelize_module(
        model.norm,  # type: ignore[arg-type]
        tp_mesh,
        SequenceParallel(),
    )
    parallelize_module(
        model.norm,  # type: ignore[arg-type]
        tp_mesh,
        PrepareModuleOutput(
            output_layouts=Shard(1), desired_output_layouts=Replicate(), use_local_output=True
        ),
    )


def clip_grad_norm(parameters: Iterable[nn.Parameter], max_norm: float) -> torch.Tensor:
    """clip_grad_norm_ for parameters that mix plain tensors and DTensors on different meshes
    (tensor parallel beside replicated embeddings), which torch's version cannot stack. The
    norm of each DTensor gradient is its global norm; replicated gradients count once."""
    grads = [p.grad for p in parameters if p.grad is not None]
    squares = []
    for grad in grads:
        norm = torch.linalg.vector_norm(grad)
        if isinstance(norm, DTensor):
            norm = norm.full_tensor()
        squares.append(norm.double() ** 2)
    total = torch.stack(squares).sum().sqrt() if squares else torch.zeros((), dtype=torch.float64)
    if math.isfinite(max_norm):
        coef = min(1.0, max_norm / (float(total) + 1e-6))
        if coef < 1.0:
            for grad in grads:
                grad.mul_(coef)
    return total.float()
