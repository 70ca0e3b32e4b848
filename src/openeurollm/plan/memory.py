"""Memory per device for one training step, by closed-form counts of what our trainer keeps.

Counted for our architecture (model/llama.py) and trainer (AdamW with fp32 state, fp32 master
weights, the loss in fp32): parameters, gradients and optimizer state, sharded by FSDP and
split by tensor/pipeline parallelism; the activations autograd saves, per block, with and
without activation checkpointing; the loss head; a fixed device workspace on GPUs. The peak
is the highest of three moments of the backward pass (see `MemoryEstimate.peak`)."""

from __future__ import annotations

from dataclasses import dataclass

from openeurollm.model.args import ModelArgs, layer_params, num_params
from openeurollm.plan.setup import Layout, Setup

GIB = 1024**3
# CUDA context, cuBLAS/cuDNN workspaces and NCCL buffers: not tensors, but device memory all
# the same (about 1.5 GiB on H100-class devices with PyTorch 2.x; an estimate, not a count).
GPU_WORKSPACE_BYTES = 1.5 * GIB


@dataclass(frozen=True)
class MemoryEstimate:
    params: float
    grads: float
    optimizer: float
    activations: float  # kept for the backward pass, under the setup's checkpointing
    activations_without_checkpointing: float
    activations_with_checkpointing: float
    recompute: float  # the one block recomputed at a time under checkpointing
    loss_head: float
    backward_transient: float  # one block's gradients in flight
    tied_gradient: float  # the embedding's second gradient and their sum, when tied
    workspace: float
    accumulating: bool  # gradients and activations alive together (grad_accum > 1)

    @property
    def peak(self) -> float:
        """The highest of three moments of the backward pass: its start (every activation and
        the loss head), its walk through the blocks (one block recomputed, its gradients in
        flight) and its end (every gradient). Accumulating, the gradients of earlier
        micro-batches are alive throughout, and the moments are counted together."""
        static = self.params + self.optimizer + self.workspace
        start = self.activations + self.loss_head
        blocks = self.activations + self.recompute + self.backward_transient
        end = self.grads + self.tied_gradient
        if self.accumulating:
            return static + self.grads + start + self.backward_transient
        return static + max(start, blocks, end)


def _saved_per_token_per_layer(a: ModelArgs, seq_len: int, flash: bool) -> tuple[float, float]:
    """(elements kept in the activation dtype, elements kept in fp32) by one block, per token.

    Attention: the four q-sized tensors scaled-dot-product attention and the output
    projection keep (q, k and v after the grouped-query repeat, the attention output), plus
    the probabilities when they are materialised. Feed-forward: the two projections, SiLU's
    output and the gated product. The two RMSNorms keep their input in fp32 (they compute in
    fp32) and their output in the activation dtype; QK-norm does the same per head."""
    q, kv = a.n_heads * a.hd, a.n_kv_heads * a.hd
    low = 2 * a.dim + 4 * q + 4 * a.ffn_dim
    fp32 = 2 * a.dim
    if a.qk_norm:
        low, fp32 = low + q + kv, fp32 + q + kv
    if not flash:
        low += a.n_heads * seq_len
    return low, fp32


def activation_bytes(s: Setup, layout: Layout, checkpointing: str) -> float:
    """Activations alive at the start of the backward pass on the busiest rank. Under 1F1B the
    first pipeline stage holds `pp` micro-batches of its `layers / pp` blocks: one micro-batch
    of the whole model. Sequence/tensor parallelism divides every tensor by `tp`."""
    a, tokens = s.args, s.tokens_per_micro_batch
    act = 4 if s.precision == "fp32" else 2
    low, fp32 = _saved_per_token_per_layer(a, s.seq_len, s.flash_attention)
    block = tokens * (low * act + fp32 * 4) / layout.tp
    if checkpointing == "none":
        return a.n_layers * block
    if checkpointing == "selective":
        # Keep the matmul outputs, recompute the elementwise work: the norms' and SiLU's
        # tensors are not kept (2 x dim in fp32, dim and ffn in the activation dtype).
        return a.n_layers * tokens * ((low - a.dim - a.ffn_dim) * act) / layout.tp
    # full: each block keeps only its input.
    return a.n_layers * tokens * a.dim * act / layout.tp


def recompute_bytes(s: Setup, layout: Layout) -> float:
    """Under checkpointing, the block being recomputed holds its full activations."""
    if s.checkpointing == "none":
        return 0.0
    act = 4 if s.precision == "fp32" else 2
    low, fp32 = _saved_per_token_per_layer(s.args, s.seq_len, s.flash_attention)
    return s.tokens_per_micro_batch * (low * act + fp32 * 4) / layout.tp


def loss_head_bytes(s: Setup, layout: Layout) -> float:
    """The loss in fp32: at the start of the backward pass the kept log-softmax output, its
    gradient and the logits' gradient (3 x vocab floats per token), plus the logits in the
    activation dtype when that is not fp32."""
    a, tokens = s.args, s.tokens_per_micro_batch
    per_token = 3 * a.vocab_size * 4 + (0 if s.precision == "fp32" else a.vocab_size * 2)
    return tokens * per_token / layout.tp


def backward_transient_bytes(s: Setup, layout: Layout) -> float:
    """What exists only while one block's backward runs: the gradients of its probabilities
    (and softmax's scratch) when attention is materialised, of its feed-forward and residual
    stream."""
    a, tokens = s.args, s.tokens_per_micro_batch
    act = 4 if s.precision == "fp32" else 2
    per_token = 2 * a.ffn_dim + 2 * a.dim
    if not s.flash_attention:
        per_token += 2 * a.n_heads * s.seq_len
    return tokens * per_token * act / layout.tp


def estimate_memory(s: Setup, layout: Layout, on_gpu: bool = True) -> MemoryEstimate:
    a = s.args
    model_parallel = layout.tp * layout.pp
    params_here = num_params(a) / model_parallel
    shard = layout.dp if layout.strategy == "fsdp" else 1
    params = params_here * 4 / shard  # fp32 master weights
    if s.precision != "fp32":
        if layout.strategy == "fsdp":
            # bf16 all-gathered copies of the block being computed and the one prefetched.
            params += 2 * layer_params(a) * 2 / model_parallel
        else:
            params += params_here * 2  # autocast's bf16 weight copies, cached over the forward
    return MemoryEstimate(
        params=params,
        grads=params_here * 4 / shard,
        optimizer=params_here * 8 / shard,  # AdamW: two fp32 moments
        activations=activation_bytes(s, layout, s.checkpointing),
        activations_without_checkpointing=activation_bytes(s, layout, "none"),
        activations_with_checkpointing=activation_bytes(s, layout, "full")
        + recompute_bytes(Setup(**{**s.__dict__, "checkpointing": "full"}), layout),
        recompute=recompute_bytes(s, layout),
        loss_head=loss_head_bytes(s, layout),
        backward_transient=backward_transient_bytes(s, layout),
        # Tied: the output head's and the embedding's gradients of the one table meet at
        # the end of the backward pass, and their sum is a third copy for a moment.
        tied_gradient=2 * a.vocab_size * a.dim * 4 / (layout.tp * shard)
        if a.tie_embeddings
        else 0.0,
        workspace=GPU_WORKSPACE_BYTES if on_gpu else 0.0,
        accumulating=s.grad_accum > 1,
    )
