"""The memory model against the measured peak of a real training step on CPU.

Each case runs our model, optimizer and loss (tests/plan/measure_peak.py) in a fresh process
with glibc's mmap threshold fixed, so the process's high-water mark above its footprint before
the model was built is the tensors' peak. The cases span where the peak comes from: the
optimizer state, the activations (with and without checkpointing), the loss head, gradient
accumulation, tied and untied embeddings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openeurollm.model.args import ModelArgs
from openeurollm.plan.memory import estimate_memory
from openeurollm.plan.setup import Layout, Setup

SMALL = {"vocab_size": 8000, "dim": 192, "n_layers": 4, "n_heads": 6, "n_kv_heads": 2,
         "ffn_dim": 512, "qk_norm": True}  # fmt: skip
WIDE = {"vocab_size": 16000, "dim": 512, "n_layers": 8, "n_heads": 8, "n_kv_heads": 4,
        "ffn_dim": 1408}  # fmt: skip
LONG = {"vocab_size": 4000, "dim": 256, "n_layers": 6, "n_heads": 8, "n_kv_heads": 8,
        "ffn_dim": 768, "tie_embeddings": False}  # fmt: skip
CASES = {
    "activations": {"args": SMALL, "micro_batch": 8, "seq_len": 256},
    "checkpointing": {"args": SMALL, "micro_batch": 8, "seq_len": 256, "checkpointing": True},
    "accumulation": {"args": SMALL, "micro_batch": 4, "seq_len": 256, "grad_accum": 2},
    "parameters": {"args": WIDE, "micro_batch": 2, "seq_len": 128},
    "attention": {"args": LONG, "micro_batch": 4, "seq_len": 512},
}


@pytest.fixture(scope="module")
def measured() -> dict[str, int]:
    names = sorted(CASES)
    peaks = _measure([CASES[name] for name in names])
    return dict(zip(names, peaks, strict=True))


def _measure(specs: list[dict]) -> list[int]:
    env = dict(
        os.environ,
        MALLOC_MMAP_THRESHOLD_="65536",
        OMP_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(Path.cwd() / "src"), os.environ.get("PYTHONPATH")])
        ),
    )
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("measure_peak.py")), json.dumps(specs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_bytes"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_predicted_peak_within_15_percent_of_measured(case: str, measured: dict) -> None:
    spec = CASES[case]
    setup = Setup(
        ModelArgs.from_dict(spec["args"]),
        seq_len=spec["seq_len"],
        micro_batch=spec["micro_batch"],
        grad_accum=spec.get("grad_accum", 1),
        precision="fp32",
        compile=False,
        checkpointing="full" if spec.get("checkpointing") else "none",
        flash_attention=False,  # our trainer's CPU attention materialises the probabilities
    )
    predicted = estimate_memory(setup, Layout(gpus=1, strategy="none"), on_gpu=False).peak
    peak = measured[case]
    assert predicted / peak == pytest.approx(1.0, abs=0.15), (
        f"{case}: predicted {predicted / 2**20:.0f} MiB, measured {peak / 2**20:.0f} MiB"
    )


def test_sharding_and_splitting_divide_what_they_should() -> None:
    setup = Setup(ModelArgs.from_dict(WIDE), seq_len=1024, micro_batch=2)
    one = estimate_memory(setup, Layout(gpus=8, strategy="fsdp"))
    two = estimate_memory(setup, Layout(gpus=16, strategy="fsdp"))
    assert two.optimizer == pytest.approx(one.optimizer / 2)
    assert two.grads == pytest.approx(one.grads / 2)
    assert two.activations == pytest.approx(one.activations)  # same micro-batch per rank
    ddp = estimate_memory(setup, Layout(gpus=8, strategy="ddp"))
    assert ddp.optimizer == pytest.approx(8 * one.optimizer)
    tp = estimate_memory(setup, Layout(gpus=8, strategy="fsdp", tp=2))
    assert tp.activations == pytest.approx(one.activations / 2)
    assert one.activations_with_checkpointing < one.activations_without_checkpointing
