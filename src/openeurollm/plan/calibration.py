"""The one published run the throughput model is calibrated on, and the fit.

torchtitan, Llama 3.1 8B on 8 H100 (Meta Grand Teton: HBM2e, 500 W limit), FSDP +
torch.compile + Float8, local batch 2 x 8,192 tokens, selective activation checkpointing:
8,532 tokens/s per GPU (torchtitan benchmarks/llama3_h100_202412_torchtitan.md, Table 1).
The other published runs (other sizes, GPU counts, precisions, codebases) are a test fixture
(tests/plan/published_runs.yaml) that the calibrated model must predict within 20%."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from openeurollm.model.args import ModelArgs
from openeurollm.plan.devices import DEVICES
from openeurollm.plan.setup import Layout, Setup
from openeurollm.plan.throughput import (
    compute_seconds,
    memory_seconds,
    tensor_parallel_seconds,
    tokens_per_second_per_gpu,
)

LLAMA_3_1_8B = ModelArgs(
    vocab_size=128256, dim=4096, n_layers=32, n_heads=32, n_kv_heads=8, ffn_dim=14336,
    rope_theta=500_000.0, tie_embeddings=False, max_seq_len=8192,
)  # fmt: skip


@dataclass(frozen=True)
class PublishedRun:
    name: str
    source: str
    setup: Setup
    layout: Layout
    device: str
    tokens_per_second_per_gpu: float


CALIBRATION_RUN = PublishedRun(
    name="torchtitan Llama 3.1 8B, 8 x H100, FSDP + compile + Float8",
    source="pytorch/torchtitan benchmarks/llama3_h100_202412_torchtitan.md, Table 1",
    setup=Setup(
        LLAMA_3_1_8B, seq_len=8192, micro_batch=2, precision="float8", compile=True,
        checkpointing="selective",
    ),
    layout=Layout(gpus=8, strategy="fsdp"),
    device="H100 HBM2e 500W",
    tokens_per_second_per_gpu=8532,
)  # fmt: skip


def fit_efficiency(run: PublishedRun) -> float:
    """The matmul efficiency at which the model reproduces `run` exactly (the step time is
    compute / efficiency + the rest, so this is closed form; pipeline and data-parallel
    terms must be absent from a calibration run)."""
    device = DEVICES.get(run.device)
    if run.layout.pp > 1:
        raise ValueError("calibrate on a run without pipeline parallelism")
    rest = memory_seconds(run.setup, device) + tensor_parallel_seconds(
        run.setup, run.layout, device
    )
    budget = 1.0 / run.tokens_per_second_per_gpu - rest
    if budget <= 0:
        raise ValueError(f"{run.name}: the model's non-matmul time alone exceeds the run's")
    return compute_seconds(run.setup, device) / budget


@cache
def efficiency() -> float:
    return fit_efficiency(CALIBRATION_RUN)


def predict(run: PublishedRun) -> float:
    """Tokens/s per GPU the calibrated model expects for a published run's configuration."""
    return tokens_per_second_per_gpu(run.setup, run.layout, DEVICES.get(run.device), efficiency())
