"""The training loop, `train(job)`, run by every rank the same way.

Per optimizer step: the step's window starts come from (seed, step); each rank takes its
slice of every micro-batch, accumulates gradients, clips, steps AdamW and the schedule.
Losses, lr, grad norm, tokens/s and MFU go to metrics.jsonl; checkpoints every
`checkpoint_every` steps, at the end, and when SIGTERM/SIGUSR1 arrives.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from openeurollm.config import TrainConfig
from openeurollm.io.fileio import atomic_open, atomic_path, write_json
from openeurollm.io.progress import progress
from openeurollm.model.args import ModelArgs, flops_per_token, num_params
from openeurollm.model.llama import Transformer
from openeurollm.train import checkpoint as ckpt
from openeurollm.train.data import TokenWindows
from openeurollm.train.job import Job
from openeurollm.train.metrics import EnergyMeter, MetricsLog, peak_flops
from openeurollm.train.parallel import (
    DistInfo,
    all_reduce,
    attention_kernel,
    autocast,
    close_distributed,
    gradient_sync,
    init_distributed,
    parallel_strategy,
    parallelize,
)
from openeurollm.train.schedule import LRSchedule
from openeurollm.train.signals import STOP_FILE, Interrupted, stop_on_signals

log = logging.getLogger("openeurollm")
SUMMARY_FILE = "summary.json"


def build_optimizer(model: nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW; weight decay on matrices only (not on norm gains). Fused kernel when supported."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    kwargs: dict[str, Any] = {"lr": cfg.lr, "betas": (cfg.beta1, cfg.beta2), "eps": 1e-8}
    try:
        return torch.optim.AdamW(groups, fused=device.type in ("cuda", "cpu"), **kwargs)
    except (RuntimeError, ValueError):  # a device or tensor type without the fused kernel
        return torch.optim.AdamW(groups, **kwargs)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss, in fp32 whatever the logits' dtype."""
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())


def _truncate_metrics(path: Path, step: int) -> None:
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


def _save_weights(model: nn.Module, args: ModelArgs, out: Path, info: DistInfo) -> None:
    """model.safetensors (fp32, our parameter names) + model_config.json, by rank 0."""
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


def train(job: Job) -> dict[str, Any]:
    """Run (or continue) the job. Returns the summary on rank 0, {} elsewhere.
    Raises Interrupted after checkpointing when a stop signal arrived."""
    cfg = TrainConfig.model_validate(job.train)
    if cfg.deterministic:
        # cuBLAS needs this set before its first use to be deterministic.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    info = init_distributed(cfg.device)
    try:
        return _train(job, cfg, info)
    finally:
        close_distributed()


def _train(job: Job, cfg: TrainConfig, info: DistInfo) -> dict[str, Any]:
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    out = Path(job.out)
    ckpt_root = out / "checkpoints"
    args = ModelArgs.from_dict(job.model)
    windows = TokenWindows(Path(job.shards), cfg.seq_len)
    if windows.vocab_size is not None and windows.vocab_size > args.vocab_size:
        raise ValueError(
            f"the shards use {windows.vocab_size} token ids but the model has "
            f"vocab_size={args.vocab_size}"
        )
    world, accum = info.world_size, cfg.grad_accum
    if cfg.batch_size % (world * accum):
        raise ValueError(
            f"train.batch_size ({cfg.batch_size}) must be divisible by ranks x grad_accum "
            f"({world} x {accum})"
        )
    per_rank = cfg.batch_size // (world * accum)
    device = info.device
    strategy = parallel_strategy(cfg, world)

    # Every rank builds the same initial weights from the seed. A large sharded model is
    # built on the meta device instead and initialised shard by shard after fully_shard.
    torch.manual_seed(job.seed)
    on_meta = strategy == "fsdp" and device.type == "cuda"
    if on_meta:
        with torch.device("meta"):
            model: nn.Module = Transformer(args)
    else:
        model = Transformer(args).to(device)
    model = parallelize(model, cfg, info)
    if on_meta:
        model.to_empty(device=device)
        model.init_weights()  # type: ignore[operator]
    optimizer = build_optimizer(model, cfg, device)
    schedule = LRSchedule(
        cfg.schedule, cfg.steps, cfg.warmup_steps, cfg.min_lr_ratio, cfg.decay_fraction
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)

    state: dict[str, Any] = {
        "step": 0,
        "tokens_seen": 0,
        "lang_tokens": [0] * len(windows.langs),
        "first_loss": None,
        "last_loss": None,
        "wall_seconds": 0.0,
        "device_seconds": 0.0,
        "energy_j": 0.0,
        "segments": 0,
    }
    resumed_from = None
    if job.resume and (path := ckpt.latest(ckpt_root)) is not None:
        saved = ckpt.load(path, model, optimizer, info)
        scheduler.load_state_dict(saved["scheduler"])
        state.update(saved["trainer"])
        resumed_from = state["step"]
        log.info("train: resumed from %s (step %d)", path, state["step"])
    elif info.is_main:
        shutil.rmtree(ckpt_root, ignore_errors=True)
    state["segments"] += 1

    metrics = None
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        _truncate_metrics(out / "metrics.jsonl", state["step"])
        metrics = MetricsLog(out / "metrics.jsonl", out / "tensorboard")

    flops_tok = flops_per_token(args, cfg.seq_len)
    peak = peak_flops(device, cfg.dtype, cfg.peak_flops)
    meter = EnergyMeter(device, cfg.power_watts)
    meter.start()
    t_start = time.monotonic()
    t_log, tokens_log = t_start, state["tokens_seen"]
    step_tokens = cfg.batch_size * cfg.seq_len
    base = {k: state[k] for k in ("wall_seconds", "device_seconds", "energy_j")}

    def account() -> None:
        """Fold this segment's time and energy (all ranks) into the state (collective)."""
        joules = meter.joules()
        reading = torch.tensor(math.nan if joules is None else joules, device=device)
        energy = float(all_reduce(reading.double(), "sum"))  # NaN if any rank has no reading
        wall = time.monotonic() - t_start
        state["wall_seconds"] = base["wall_seconds"] + wall
        state["device_seconds"] = base["device_seconds"] + wall * world
        known = base["energy_j"] is not None and not math.isnan(energy)
        state["energy_j"] = base["energy_j"] + energy if known else None

    def save_checkpoint() -> None:
        account()
        ckpt.save(
            ckpt_root,
            state["step"],
            model,
            optimizer,
            {"trainer": state, "scheduler": scheduler.state_dict()},
            info,
            cfg.keep_last,
        )

    # Compiled blocks (parallelize) leave the head's loss outside; compiling it too fuses
    # the upcast, log-softmax and gather over the (tokens x vocab) logits.
    loss_fn = torch.compile(cross_entropy, dynamic=False) if cfg.compile else cross_entropy
    steps = range(state["step"], cfg.steps)
    if info.is_main:
        steps = progress(steps, desc="train", unit="step")  # type: ignore[assignment]
    model.train()
    with stop_on_signals(Path(job.out) / STOP_FILE) as stop:
        for step in steps:
            starts = windows.starts(job.seed, step, cfg.batch_size)
            loss_sum = torch.zeros((), device=device, dtype=torch.float32)
            for micro in range(accum):
                lo = (micro * world + info.rank) * per_rank
                batch = torch.from_numpy(windows.batch(starts[lo : lo + per_rank])).to(device)
                inputs, targets = batch[:, :-1].contiguous(), batch[:, 1:].contiguous()
                # The attention kernel spans backward too: activation checkpointing
                # recomputes the forward there and must take the same kernel.
                with gradient_sync(model, micro == accum - 1), attention_kernel(device):
                    with autocast(cfg, info):
                        logits = model(inputs)
                    loss = loss_fn(logits, targets)
                    (loss / accum).backward()
                loss_sum += loss.detach()
            grad_norm = nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip or math.inf)
            if hasattr(grad_norm, "full_tensor"):  # a DTensor under FSDP2
                grad_norm = grad_norm.full_tensor()
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            scheduler.step()

            # One collective per step: the mean loss and whether any rank was signalled.
            shared = torch.stack(
                [loss_sum / accum, torch.tensor(float(bool(stop)), device=device)]
            ).double()
            all_reduce(shared, "sum")
            loss_value = float(shared[0]) / world
            stopping = float(shared[1]) > 0
            state["step"] = step + 1
            state["tokens_seen"] += step_tokens
            state["lang_tokens"] = (
                np.asarray(state["lang_tokens"]) + windows.lang_counts(starts)
            ).tolist()
            if state["first_loss"] is None:
                state["first_loss"] = loss_value
            state["last_loss"] = loss_value

            done = state["step"]
            if metrics is not None and (
                done == 1 or done % cfg.log_every == 0 or done == cfg.steps or stopping
            ):
                now = time.monotonic()
                tps = (state["tokens_seen"] - tokens_log) / max(now - t_log, 1e-9)
                t_log, tokens_log = now, state["tokens_seen"]
                metrics.write(
                    {
                        "step": done,
                        "loss": loss_value,
                        "lr": lr,
                        "grad_norm": float(grad_norm),
                        "tokens_per_s": round(tps, 1),
                        "mfu": round(tps / world * flops_tok / peak, 5) if peak else None,
                        "tokens_seen": state["tokens_seen"],
                    }
                )
            if stopping or done % cfg.checkpoint_every == 0 or done == cfg.steps:
                save_checkpoint()
            if stopping:
                if metrics is not None:
                    metrics.close()
                meter.close()
                raise Interrupted(stop.signum or 15, done)

    found = ckpt.checkpoints(ckpt_root)
    if not found or found[-1][0] != state["step"]:
        save_checkpoint()
    account()
    meter.close()
    wall = time.monotonic() - t_start
    _save_weights(model, args, out, info)
    if metrics is not None:
        metrics.close()
    if not info.is_main:
        return {}

    segment_tokens = state["tokens_seen"] - (resumed_from or 0) * step_tokens
    summary = {
        "flavor": job.flavor,
        "model": args.to_dict(),
        "params": num_params(args),
        "params_non_embedding": num_params(args, embeddings=False),
        "steps": state["step"],
        "batch_size": cfg.batch_size,
        "seq_len": cfg.seq_len,
        "tokens_seen": state["tokens_seen"],
        "tokens_per_language": dict(zip(windows.langs, state["lang_tokens"], strict=True)),
        "shard_tokens": windows.total,
        "shards_meta_sha256": windows.meta_sha256,
        "epochs": round(state["tokens_seen"] / windows.total, 4),
        "first_loss": state["first_loss"],
        "final_loss": state["last_loss"],
        "flops_per_token": flops_tok,
        "total_flops": float(flops_tok) * state["tokens_seen"],
        "tokens_per_s": round(segment_tokens / max(wall, 1e-9), 1),
        "wall_seconds": round(state["wall_seconds"], 3),
        "device_hours": round(state["device_seconds"] / 3600, 6),
        "energy_kwh": None if state["energy_j"] is None else round(state["energy_j"] / 3.6e6, 6),
        "energy_source": meter.source,
        "world_size": world,
        "device": device.type,
        "dtype": cfg.dtype,
        "parallel": strategy,
        "compile": cfg.compile,
        "activation_checkpointing": cfg.activation_checkpointing,
        "resumed_from_step": resumed_from,
        "segments": state["segments"],
        # Facts of how this trainer works, recorded so the AI Act summary can state them.
        "init_checkpoint": f"none: trained from scratch (random initialization, seed {job.seed})",
        "continuous": "no: every training token came from the token shards fixed before training",
    }
    write_json(out / SUMMARY_FILE, summary)
    log.info(
        "train: %d steps, %s tokens, loss %.3f -> %.3f, %.0f tokens/s, %.1fs",
        summary["steps"],
        f"{summary['tokens_seen']:,}",
        summary["first_loss"] or math.nan,
        summary["final_loss"] or math.nan,
        summary["tokens_per_s"],
        wall,
    )
    return summary
