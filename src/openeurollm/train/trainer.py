"""The trainer: setup, one optimizer step, checkpoint, summary. Run by every rank the same way.

Per optimizer step: the step's window starts come from (seed, step); each rank takes its
slice of every micro-batch, accumulates gradients, clips, steps AdamW and the schedule.
Checkpoints every `checkpoint_every` steps, at the end, and when SIGTERM/SIGUSR1 arrives.
Everything else (metrics rows, MFU, time and energy) is a callback (train/callbacks.py).
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from openeurollm.config import TrainConfig
from openeurollm.io.fileio import write_json
from openeurollm.io.progress import progress
from openeurollm.model.args import ModelArgs, flops_per_token, num_params
from openeurollm.model.llama import Transformer
from openeurollm.train import anomaly, failure
from openeurollm.train import checkpoint as ckpt
from openeurollm.train.callbacks import Callback, StepResult
from openeurollm.train.data import TokenWindows
from openeurollm.train.job import Job
from openeurollm.train.optim import build_optimizer, cross_entropy
from openeurollm.train.outputs import SUMMARY_FILE, save_weights, truncate_metrics
from openeurollm.train.parallel import (
    DistInfo,
    all_reduce,
    attention_kernel,
    autocast,
    gradient_sync,
    parallel_strategy,
    parallelize,
)
from openeurollm.train.schedule import LRSchedule
from openeurollm.train.signals import STOP_FILE, Interrupted, StopFlag, stop_on_signals

log = logging.getLogger("openeurollm")


def initial_state(langs: int) -> dict[str, Any]:
    """The trainer state a checkpoint carries (trainer.json), before the first step."""
    return {
        "step": 0,
        "tokens_seen": 0,
        "lang_tokens": [0] * langs,
        "first_loss": None,
        "last_loss": None,
        "wall_seconds": 0.0,
        "device_seconds": 0.0,
        "energy_j": 0.0,
        "segments": 0,
        # Surviving anomalies: what happened (and when), the data windows skipped by
        # rollbacks, and the recent losses a spike is measured against.
        "events": [],
        "data_offset": 0,
        "recent_losses": [],
    }


def finite(value: float) -> float | None:
    """JSON has no NaN or infinity: a non-finite number is recorded as null."""
    return value if math.isfinite(value) else None


def restart_event(previous: dict[str, Any], resumed_at: int) -> dict[str, Any]:
    """The train record's entry for a start after a classified failure (train/failure.py)."""
    return {
        "step": previous.get("step"),
        "reason": previous.get("reason", "error"),
        "action": "restart",
        "resumed_at_step": resumed_at,
    }


class Trainer:
    def __init__(
        self, job: Job, cfg: TrainConfig, info: DistInfo, callbacks: Sequence[Callback] = ()
    ) -> None:
        self.job, self.cfg, self.info = job, cfg, info
        self.callbacks = list(callbacks)
        self.out = Path(job.out)
        self.ckpt_root = self.out / "checkpoints"
        self.args = ModelArgs.from_dict(job.model)
        self.flops_per_token = flops_per_token(self.args, cfg.seq_len)
        self.resumed_from: int | None = None
        self.pending: ckpt.PendingSave | None = None
        self._ckpt_group: Any = None

    # -- setup ---------------------------------------------------------------------------

    def setup(self) -> None:
        """Data, model, optimizer and schedule; then resume from the newest checkpoint."""
        cfg, info = self.cfg, self.info
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        self.windows = TokenWindows(Path(self.job.shards), cfg.seq_len)
        vocab = self.windows.vocab_size
        if vocab is not None and vocab > self.args.vocab_size:
            raise ValueError(
                f"the shards use {vocab} token ids but the model has "
                f"vocab_size={self.args.vocab_size}"
            )
        world, accum = info.world_size, cfg.grad_accum
        # Data parallelism runs over the dp_shard groups: the ranks of one tensor-parallel
        # group read the same sequences.
        self.dp_size, self.dp_rank = world // cfg.tp, info.rank // cfg.tp
        if cfg.batch_size % (self.dp_size * accum):
            raise ValueError(
                f"train.batch_size ({cfg.batch_size}) must be divisible by data-parallel "
                f"ranks x grad_accum ({self.dp_size} x {accum})"
            )
        self.per_rank = cfg.batch_size // (self.dp_size * accum)
        self.strategy = parallel_strategy(cfg, world)
        self.model = self._build_model()
        self.optimizer = build_optimizer(self.model, cfg, info.device)
        schedule = LRSchedule(
            cfg.schedule, cfg.steps, cfg.warmup_steps, cfg.min_lr_ratio, cfg.decay_fraction
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.state = initial_state(len(self.windows.langs))
        if self.job.resume and (path := ckpt.latest(self.ckpt_root)) is not None:
            self.load_checkpoint(path)
            self.resumed_from = self.state["step"]
            log.info("train: resumed from %s (step %d)", path, self.state["step"])
        elif info.is_main:
            shutil.rmtree(self.ckpt_root, ignore_errors=True)
        self.state["segments"] += 1
        if info.is_main and (previous := failure.take(self.out)) is not None:
            self.state["events"].append(restart_event(previous, self.state["step"]))
        if cfg.async_checkpoint and dist.is_initialized():
            # The background writer's collectives get a gloo group of their own.
            self._ckpt_group = dist.new_group(backend="gloo")
        # Compiled blocks (parallelize) leave the head's loss outside; compiling it too fuses
        # the upcast, log-softmax and gather over the (tokens x vocab) logits.
        self.loss_fn = torch.compile(cross_entropy, dynamic=False) if cfg.compile else cross_entropy
        if info.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            truncate_metrics(self.out / "metrics.jsonl", self.state["step"])

    def _build_model(self) -> nn.Module:
        """Every rank builds the same initial weights from the seed. A large sharded model is
        built on the meta device instead and initialised shard by shard after fully_shard."""
        device = self.info.device
        torch.manual_seed(self.job.seed)
        on_meta = self.strategy == "fsdp" and device.type == "cuda"
        if on_meta:
            with torch.device("meta"):
                model: nn.Module = Transformer(self.args)
        else:
            model = Transformer(self.args).to(device)
        model = parallelize(model, self.cfg, self.info)
        if on_meta:
            model.to_empty(device=device)
            model.init_weights()  # type: ignore[operator]
        return model

    # -- one step ------------------------------------------------------------------------

    def forward_backward(self, starts: np.ndarray) -> torch.Tensor:
        """Accumulate this rank's gradients over the micro-batches; returns its mean loss."""
        cfg, info, device = self.cfg, self.info, self.info.device
        accum = cfg.grad_accum
        loss_sum = torch.zeros((), device=device, dtype=torch.float32)
        for micro in range(accum):
            lo = (micro * self.dp_size + self.dp_rank) * self.per_rank
            batch = torch.from_numpy(self.windows.batch(starts[lo : lo + self.per_rank]))
            batch = batch.to(device)
            inputs, targets = batch[:, :-1].contiguous(), batch[:, 1:].contiguous()
            # The attention kernel spans backward too: activation checkpointing recomputes
            # the forward there and must take the same kernel.
            with gradient_sync(self.model, micro == accum - 1), attention_kernel(device):
                with autocast(cfg, info):
                    logits = self.model(inputs)
                loss = self.loss_fn(logits, targets)
                (loss / accum).backward()
            loss_sum += loss.detach()
        return loss_sum / accum

    def clip_gradients(self) -> torch.Tensor:
        """Clip to train.grad_clip; returns the norm before clipping (the same on all ranks)."""
        max_norm = self.cfg.grad_clip or math.inf
        if self.cfg.tp > 1:  # DTensors on the tp mesh beside replicated tensors
            from openeurollm.train.tensor_parallel import clip_grad_norm

            return clip_grad_norm(self.model.parameters(), max_norm)
        grad_norm = nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
        if hasattr(grad_norm, "full_tensor"):  # a DTensor under FSDP2
            grad_norm = grad_norm.full_tensor()
        return grad_norm

    def step(self, step: int, stop: StopFlag) -> StepResult:
        """One optimizer step at `step` (0-based). Every rank agrees on the loss, on whether to
        stop and on whether a background checkpoint is written, through one collective. An
        anomalous step (anomaly.detect) applies no update."""
        cfg, state = self.cfg, self.state
        starts = self.windows.starts(self.job.seed, step + state["data_offset"], cfg.batch_size)
        loss = self.forward_backward(starts)
        grad_norm = self.clip_gradients()
        written = self.pending is None or self.pending.written()
        flags = [float(bool(stop)), float(written)]
        shared = torch.cat([loss.reshape(1), torch.tensor(flags, device=loss.device)]).double()
        all_reduce(shared, "sum")
        world = self.info.world_size
        loss_value, norm = float(shared[0]) / world, float(grad_norm)
        lr = self.optimizer.param_groups[0]["lr"]
        skipped = anomaly.detect(loss_value, norm, state["recent_losses"], cfg.spike_factor)
        if skipped is None:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        state["step"] = step + 1
        if skipped is None:
            self._count(starts, loss_value)
        if self.pending is not None and float(shared[2]) == world:
            self.pending.finish(self.info)
            self.pending = None
        return StepResult(step + 1, loss_value, norm, lr, starts, float(shared[1]) > 0, skipped)

    def _count(self, starts: np.ndarray, loss: float) -> None:
        """Account a step whose update was applied."""
        state = self.state
        state["recent_losses"] = anomaly.remember(state["recent_losses"], loss)
        state["tokens_seen"] += self.cfg.batch_size * self.cfg.seq_len
        counts = np.asarray(state["lang_tokens"]) + self.windows.lang_counts(starts)
        state["lang_tokens"] = counts.tolist()
        if state["first_loss"] is None:
            state["first_loss"] = loss
        state["last_loss"] = loss

    # -- checkpoints ---------------------------------------------------------------------

    def save_checkpoint(self, wait: bool = False) -> None:
        """Collective. Callbacks fold their accounting into the state first. With
        async_checkpoint the tensors are written in the background unless `wait`."""
        self.complete_pending()
        for callback in self.callbacks:
            callback.on_checkpoint(self)
        background = self.cfg.async_checkpoint and not wait
        pending = ckpt.save(
            self.ckpt_root,
            self.state["step"],
            self.model,
            self.optimizer,
            {"trainer": self.state, "scheduler": self.scheduler.state_dict()},
            self.info,
            self.cfg.keep_last,
            background=background,
            process_group=self._ckpt_group,
        )
        if background:  # completed by the step whose collective finds every rank's written
            self.pending = pending
        else:
            pending.finish(self.info)

    def complete_pending(self) -> None:
        """Collective: wait for a background checkpoint and mark it complete."""
        if self.pending is not None:
            self.pending.finish(self.info)
            self.pending = None

    def load_checkpoint(self, path: Path) -> None:
        saved = ckpt.load(path, self.model, self.optimizer, self.info)
        self.scheduler.load_state_dict(saved["scheduler"])
        self.state.update(saved["trainer"])

    # -- anomalies -----------------------------------------------------------------------

    def handle_anomaly(self, result: StepResult) -> None:
        """Apply train.spike_policy to a step that `step()` did not apply (collective)."""
        cfg, reason, done = self.cfg, result.skipped or "nan", result.step
        what = anomaly.describe(reason, result.loss, result.grad_norm, done)
        if cfg.spike_policy == "fail":
            raise anomaly.TrainingDiverged(
                reason,
                f"training stopped on {what}; lower train.lr, or set train.spike_policy to "
                "skip_batch or rollback to survive it",
            )
        event: dict[str, Any] = {"step": done, "reason": reason, "loss": finite(result.loss)}
        to = self.rollback(done) if cfg.spike_policy == "rollback" else None
        if to is None:
            event["action"] = "skip_batch"
        else:
            event |= {"action": "rollback", "to_step": to, "skipped_windows": done - to}
        self.state["events"].append(event)
        log.warning("train: %s: %s", what, event["action"])
        handled = [e for e in self.state["events"] if e["action"] != "restart"]
        if len(handled) > cfg.max_anomalies:
            raise anomaly.TrainingDiverged(
                reason,
                f"training stopped on {what}: more than train.max_anomalies="
                f"{cfg.max_anomalies} skipped or rolled-back steps",
            )

    def rollback(self, bad_step: int) -> int | None:
        """Reload the newest checkpoint and skip the data windows from it up to `bad_step`
        (the steps from there on read the windows after it). None if there is none yet."""
        self.complete_pending()
        path = ckpt.latest(self.ckpt_root)
        if path is None:
            return None
        state = self.state
        keep = {k: state[k] for k in ("events", "segments", "first_loss", "data_offset")}
        self.load_checkpoint(path)
        to = state["step"]
        state.update(keep)
        state["data_offset"] += bad_step - to
        for callback in self.callbacks:
            callback.on_rollback(self, to)
        return to

    # -- the run -------------------------------------------------------------------------

    def fit(self) -> dict[str, Any]:
        """Train to `steps`. Returns the summary on rank 0, {} elsewhere. Raises Interrupted
        after checkpointing when a stop signal arrived."""
        try:
            return self._fit()
        finally:
            for callback in self.callbacks:
                callback.close()

    def _steps(self) -> Iterator[int]:
        """The next step to run, until done (a rollback sets it back)."""
        while self.state["step"] < self.cfg.steps:
            yield self.state["step"]

    def _fit(self) -> dict[str, Any]:
        cfg = self.cfg
        self.setup()
        for callback in self.callbacks:
            callback.on_start(self)
        steps = self._steps()
        if self.info.is_main:
            total = cfg.steps - self.state["step"]
            steps = progress(steps, total=total, desc="train", unit="step")
        self.model.train()
        with stop_on_signals(self.out / STOP_FILE) as stop:
            for step in steps:
                result = self.step(step, stop)
                for callback in self.callbacks:
                    callback.on_step_end(self, result)
                if result.skipped:
                    self.handle_anomaly(result)
                done = self.state["step"]
                if result.stopping or done % cfg.checkpoint_every == 0 or done == cfg.steps:
                    self.save_checkpoint(wait=result.stopping or done == cfg.steps)
                if result.stopping:
                    raise Interrupted(stop.signum or 15, done)
        self.complete_pending()
        found = ckpt.checkpoints(self.ckpt_root)
        if not found or found[-1][0] != self.state["step"]:
            self.save_checkpoint(wait=True)
        return self.finish()

    def finish(self) -> dict[str, Any]:
        """Weights out, callbacks' fields in, summary.json written (rank 0)."""
        summary = self.summary()
        for callback in self.callbacks:
            callback.on_end(self, summary)
        save_weights(self.model, self.args, self.out, self.info)
        if not self.info.is_main:
            return {}
        write_json(self.out / SUMMARY_FILE, summary)
        log.info(
            "train: %d steps, %s tokens, loss %.3f -> %.3f, %.0f tokens/s, %.1fs",
            summary["steps"],
            f"{summary['tokens_seen']:,}",
            summary["first_loss"] or math.nan,
            summary["final_loss"] or math.nan,
            summary["tokens_per_s"],
            summary["wall_seconds"],
        )
        return summary

    def summary(self) -> dict[str, Any]:
        """The train record without what callbacks add (time, energy, throughput)."""
        cfg, state, args, windows = self.cfg, self.state, self.args, self.windows
        return {
            "flavor": self.job.flavor,
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
            "flops_per_token": self.flops_per_token,
            "total_flops": float(self.flops_per_token) * state["tokens_seen"],
            "world_size": self.info.world_size,
            "device": self.info.device.type,
            "dtype": cfg.dtype,
            "parallel": self.strategy,
            "tensor_parallel": cfg.tp,
            "compile": cfg.compile,
            "activation_checkpointing": cfg.activation_checkpointing,
            "resumed_from_step": self.resumed_from,
            "segments": state["segments"],
            "spike_policy": cfg.spike_policy,
            # Anomalies survived and restarts, in order: {"step", "reason", "action", ...}.
            "events": state["events"],
            "skipped_data_windows": state["data_offset"],
            # Facts of how this trainer works, recorded so the AI Act summary can state them.
            "init_checkpoint": (
                f"none: trained from scratch (random initialization, seed {self.job.seed})"
            ),
            "continuous": (
                "no: every training token came from the token shards fixed before training"
            ),
        }
