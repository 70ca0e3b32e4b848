"""Tokens per second per GPU: a roofline-style step time with one fitted number.

Time per token on one GPU is the sum of
- matmul FLOPs (6 x matmul parameters, the PaLM attention term) at `efficiency` x the peak of
  the precision they run in (float8 for block linears under float8, bf16 otherwise), times
  the recomputation activation checkpointing adds (selective: half the block matmuls' forward
  again, 7/6; full: the whole forward again, 8/6);
- the elementwise work (norms, RoPE, SiLU, residuals, float8 casts) that is bound by memory
  bandwidth, from counts of the bytes it moves;
- with tensor parallelism, the sequence-parallel all-gathers and reduce-scatters it waits for.
Pipeline parallelism adds the 1F1B bubble; data-parallel traffic (FSDP's all-gathers and
reduce-scatters, DDP's all-reduce) overlaps compute and only costs what exceeds it.
`efficiency`, the fraction of peak the matmuls reach, is the one fitted number: it comes from
one published run (plan/calibration.py), and tests check the model against the others.
"""

from __future__ import annotations

from openeurollm.model.args import ModelArgs, flops_per_token, num_params
from openeurollm.plan.devices import Device
from openeurollm.plan.setup import Layout, Setup

RECOMPUTE = {"none": 1.0, "selective": 7 / 6, "full": 8 / 6}
# Bytes per token and block moved by the elementwise work of a compiled block, forward and
# backward (about 30 x dim + 9 x ffn values of 2 bytes: two norms, RoPE on q and k, two
# residual adds, SwiGLU's gate, each read and written once forward and twice backward).
ELEMENTWISE_BYTES = (60, 18)  # x dim, x ffn_dim
EAGER_TRAFFIC = 3.0  # without torch.compile nothing is fused: about three passes per op
# Float8 (tensor-wise scaling): each linear's input and output gradient is scanned for its
# absolute maximum, cast, and cast again transposed: about 8 bytes per element, forward and
# backward, over the four linear inputs (4 x dim + ffn) and their gradients.
FLOAT8_CAST_BYTES = (64, 24)
# Network bandwidth per GPU between nodes (400 Gb/s InfiniBand NDR or Slingshot per GPU).
NETWORK_BYTES_PER_S = 50e9


def _matmul_params(a: ModelArgs) -> tuple[int, int]:
    """(block matmul parameters, output-head parameters)."""
    q, kv = a.n_heads * a.hd, a.n_kv_heads * a.hd
    block = a.n_layers * (2 * a.dim * q + 2 * a.dim * kv + 3 * a.dim * a.ffn_dim)
    return block, a.vocab_size * a.dim


def compute_seconds(s: Setup, device: Device) -> float:
    """Matmul and attention time per token at 100% of peak (divide by the efficiency)."""
    a = s.args
    block, head = _matmul_params(a)
    attention = flops_per_token(a, s.seq_len) - 6 * (block + head)
    bf16 = device.bf16_flops if s.precision != "fp32" else device.bf16_flops / 2
    block_peak = bf16
    if s.precision == "float8":
        if device.fp8_flops is None:
            raise ValueError(f"{device.name} has no float8 tensor cores")
        block_peak = device.fp8_flops
    recompute = RECOMPUTE[s.checkpointing]
    attention_recompute = recompute if s.checkpointing == "full" else 1.0
    return (
        6 * block * recompute / block_peak
        + 6 * head / bf16
        + attention * attention_recompute / bf16
    )


def memory_seconds(s: Setup, device: Device) -> float:
    a = s.args
    per_layer = ELEMENTWISE_BYTES[0] * a.dim + ELEMENTWISE_BYTES[1] * a.ffn_dim
    if not s.compile:
        per_layer *= EAGER_TRAFFIC
    if s.checkpointing == "full":
        per_layer *= RECOMPUTE["full"]
    if s.precision == "float8":
        per_layer += FLOAT8_CAST_BYTES[0] * a.dim + FLOAT8_CAST_BYTES[1] * a.ffn_dim
    if s.precision == "fp32":
        per_layer *= 2
    return a.n_layers * per_layer / device.hbm_bytes_per_s


def tensor_parallel_seconds(s: Setup, layout: Layout, device: Device) -> float:
    """Sequence parallelism: per block, two all-gathers and two reduce-scatters of the
    residual stream forward, as many backward, and the forward's again under full
    checkpointing; each moves (tp - 1) / tp of dim x 2 bytes per token. The TP group shares
    every token, so per GPU-token the group's wait counts tp times."""
    if layout.tp == 1:
        return 0.0
    passes = 2 + (1 if s.checkpointing == "full" else 0)
    per_token = 4 * s.args.dim * 2 * (layout.tp - 1) / layout.tp * passes * s.args.n_layers
    return layout.tp * per_token / device.link_bytes_per_s


def seconds_per_token(s: Setup, layout: Layout, device: Device, efficiency: float) -> float:
    """Busy time of one GPU per token it trains, before pipeline bubble and data-parallel
    communication."""
    return (
        compute_seconds(s, device) / efficiency
        + memory_seconds(s, device)
        + tensor_parallel_seconds(s, layout, device)
    )


def data_parallel_seconds(s: Setup, layout: Layout, device: Device) -> float:
    """Gradient and parameter traffic of one optimizer step, per GPU."""
    if layout.dp == 1 or layout.strategy == "none":
        return 0.0
    params = num_params(s.args) / (layout.tp * layout.pp)
    per_param = 2 * 2 + 4 if layout.strategy == "fsdp" else 2 * 4  # bf16 gathers + fp32 RS
    bandwidth = (
        device.link_bytes_per_s if layout.gpus <= layout.gpus_per_node else NETWORK_BYTES_PER_S
    )
    return params * per_param * (layout.dp - 1) / layout.dp / bandwidth


def tokens_per_second_per_gpu(s: Setup, layout: Layout, device: Device, efficiency: float) -> float:
    tokens = s.tokens_per_micro_batch * s.grad_accum  # per data-parallel rank and step
    busy = tokens * seconds_per_token(s, layout, device, efficiency) / layout.tp / layout.pp
    if layout.pp > 1:  # 1F1B: (pp - 1) micro-batch slots idle out of (m + pp - 1)
        busy *= (s.grad_accum + layout.pp - 1) / s.grad_accum
    step = max(busy, data_parallel_seconds(s, layout, device))
    return tokens / step / (layout.tp * layout.pp)
