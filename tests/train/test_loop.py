"""The training loop in one process: loss falls, outputs and record, exact resume after SIGKILL."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from openeurollm.model.args import ModelArgs
from openeurollm.model.llama import Transformer
from openeurollm.train.loop import train
from openeurollm.train.signals import EXIT_REQUEUE

from .shards import losses, tiny_job


def test_loss_falls_and_outputs_are_complete(tmp_path: Path) -> None:
    job = tiny_job(tmp_path, steps=30, log_every=5, checkpoint_every=10, keep_last=2,
                   power_watts=100.0, grad_accum=2)  # fmt: skip
    summary = train(job)
    out = tmp_path / "train"
    assert summary["final_loss"] < 0.85 * summary["first_loss"]
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 5, 10, 15, 20, 25, 30]
    assert all(r["tokens_per_s"] > 0 and r["grad_norm"] > 0 and r["mfu"] > 0 for r in rows)
    assert rows[0]["lr"] < rows[2]["lr"]  # warming up
    # keep_last: only the two newest checkpoints remain
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-20", "step-30"]
    # the weights load back into the architecture under our names
    args = ModelArgs.from_dict(json.loads((out / "model_config.json").read_text()))
    model = Transformer(args)
    model.load_state_dict(load_file(out / "model.safetensors"))
    assert summary["params"] == sum(p.numel() for p in model.parameters())
    assert summary["tokens_seen"] == 30 * 8 * 32 == sum(summary["tokens_per_language"].values())
    assert summary["total_flops"] == summary["flops_per_token"] * summary["tokens_seen"]
    assert summary["energy_kwh"] > 0 and summary["energy_source"] == "configured power x time"
    assert summary["device_hours"] > 0 and summary["world_size"] == 1


def _launch(job_file: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "openeurollm.train.launch", "--job", str(job_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_step(proc: subprocess.Popen, metrics: Path, step: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= step:
            return
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.005)
    raise AssertionError("training did not reach the step in time")


def test_sigusr1_then_sigkill_resume_is_bitwise_identical(tmp_path: Path) -> None:
    settings = dict(steps=40, checkpoint_every=3, batch_size=16, seq_len=64, deterministic=True)
    model = dict(dim=64, ffn_dim=128)
    reference = train(tiny_job(tmp_path / "ref", model, **settings))
    expected = losses(tmp_path / "ref" / "train")
    assert len(expected) == 40

    job = tiny_job(tmp_path / "run", model, **settings)
    job_file = tmp_path / "job.json"
    job.save(job_file)
    metrics = tmp_path / "run" / "train" / "metrics.jsonl"
    rng = random.Random()

    # 1) SIGUSR1 (Slurm's warning before the time limit): checkpoint, exit EXIT_REQUEUE.
    proc = _launch(job_file)
    _wait_for_step(proc, metrics, rng.randint(2, 12))
    proc.send_signal(signal.SIGUSR1)
    assert proc.wait(timeout=60) == EXIT_REQUEUE
    stopped_at = len(losses(tmp_path / "run" / "train"))
    assert (tmp_path / "run" / "train" / "checkpoints" / f"step-{stopped_at}").is_dir()

    # 2) SIGKILL at a random later step: no chance to save anything. At least one step after
    # this run's first checkpoint (a step's metrics row is written before its checkpoint), so
    # that the run leaves work behind and counts as a segment.
    proc = _launch(job_file)
    first_save = (stopped_at // 3 + 1) * 3
    _wait_for_step(proc, metrics, rng.randint(first_save + 1, 34))
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL

    # 3) Restart to the end: the whole curve equals the uninterrupted run, bit for bit.
    proc = _launch(job_file)
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode() if proc.stderr else ""
    assert losses(tmp_path / "run" / "train") == expected
    summary = json.loads((tmp_path / "run" / "train" / "summary.json").read_text())
    assert summary["final_loss"] == reference["final_loss"]
    assert summary["segments"] == 3 and summary["tokens_seen"] == reference["tokens_seen"]
    ref_w = load_file(tmp_path / "ref" / "train" / "model.safetensors")
    run_w = load_file(tmp_path / "run" / "train" / "model.safetensors")
    assert all((ref_w[k] == run_w[k]).all() for k in ref_w)


def test_batch_not_divisible_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"divisible by nproc x grad_accum \(2 x 4\)"):
        tiny_job(tmp_path, batch_size=12, grad_accum=4, nproc=2)


def test_activation_checkpointing_is_exact_and_bf16_is_close(tmp_path: Path) -> None:
    train(tiny_job(tmp_path / "fp32"))
    train(tiny_job(tmp_path / "ac", activation_checkpointing=True))
    summary = train(tiny_job(tmp_path / "bf16", dtype="bf16"))
    fp32 = losses(tmp_path / "fp32" / "train")
    # Recomputing activations in backward gives the same gradients, bit for bit.
    assert losses(tmp_path / "ac" / "train") == fp32
    bf16 = losses(tmp_path / "bf16" / "train")
    assert bf16 != fp32 and max(abs(a - b) for a, b in zip(bf16, fp32, strict=True)) < 0.02
    assert summary["dtype"] == "bf16"
    # the exported weights stay fp32 master weights
    weights = load_file(tmp_path / "bf16" / "train" / "model.safetensors")
    assert all(w.dtype == torch.float32 for w in weights.values())


@pytest.mark.slow
@pytest.mark.parametrize("scope", ["blocks", "model"])
def test_compiled_training_matches_eager(tmp_path: Path, scope: str) -> None:
    """torch.compile (per block, or the whole model as one graph) changes the kernels, not
    the maths: fp32 losses agree with eager to rounding, and checkpoint names stay plain."""
    from torch._dynamo.utils import counters

    train(tiny_job(tmp_path / "eager", steps=4))
    counters.clear()
    train(tiny_job(tmp_path / "compiled", steps=4, compile=True, compile_scope=scope))
    assert counters["stats"]["unique_graphs"] >= 1  # something was compiled
    eager, compiled = losses(tmp_path / "eager" / "train"), losses(tmp_path / "compiled" / "train")
    assert max(abs(a - b) for a, b in zip(eager, compiled, strict=True)) < 1e-4
    names = set(load_file(tmp_path / "compiled" / "train" / "model.safetensors"))
    assert names == set(load_file(tmp_path / "eager" / "train" / "model.safetensors"))
    assert not any("_orig_mod" in n for n in names)
