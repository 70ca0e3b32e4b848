"""train: token shards -> model weights, metrics, and the compute record (FLOPs, energy)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from openeurollm.config import Recipe
from openeurollm.errors import StageError
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.records.train import TrainRecord

# How a run is executed, not what it computes: changing these resumes or reuses the same
# training instead of starting over (a 2-rank checkpoint continues on 1 rank, for example).
EXECUTION_FIELDS = (
    "nproc", "parallel", "threads", "compile", "activation_checkpointing",
    "checkpoint_every", "keep_last", "watchdog_seconds", "async_checkpoint", "tp",
)  # fmt: skip


@STAGES.register("train")
class TrainStage(Stage):
    name = "train"
    after = ("shards", "tokenizer")
    digest_exclude = ("checkpoints", "job.json", "tensorboard")

    def config(self, recipe: Recipe) -> dict[str, Any]:
        train = recipe.train.model_dump(mode="json")
        for key in EXECUTION_FIELDS:
            train.pop(key)
        return {
            "model": recipe.model.model_dump(mode="json"),
            "train": train,
            "seed": recipe.run.seed,
        }

    def run(self, ctx: StageContext) -> dict[str, Any]:
        return TrainRecord.model_validate(self._train(ctx)).dump()

    def _train(self, ctx: StageContext) -> dict[str, Any]:
        from openeurollm.train.anomaly import TrainingDiverged
        from openeurollm.train.job import JOB_FILE, Job
        from openeurollm.train.signals import EXIT_REQUEUE, Interrupted

        try:
            job = Job.from_recipe(
                ctx.recipe, out=ctx.out, shards=ctx.input("shards"), resume=ctx.resume
            )
        except ValueError as exc:
            raise StageError(f"train: {exc}") from None
        nproc = ctx.recipe.train.nproc
        if ctx.recipe.executor.kind == "slurm":
            # A requeued job starts the same script again: it must always continue from the
            # last checkpoint (the runner already emptied the folder if the key changed).
            job.resume = True
            job.save(ctx.out / JOB_FILE)
            return _run_on_slurm(ctx)
        if nproc == 1:
            from openeurollm.train.loop import train

            try:
                return train(job)
            except Interrupted as exc:
                ctx.log.warning("train: %s", exc)
                raise SystemExit(EXIT_REQUEUE) from None
            except (ValueError, TrainingDiverged) as exc:
                raise StageError(f"train: {exc}") from None
        job.save(ctx.out / JOB_FILE)
        return _run_torchrun(ctx, nproc, EXIT_REQUEUE)


def _run_on_slurm(ctx: StageContext) -> dict[str, Any]:
    """`srun torchrun` in a batch job that requeues itself on the time-limit warning."""
    import json

    from openeurollm.pipeline.slurm import run_training
    from openeurollm.train.job import JOB_FILE
    from openeurollm.train.loop import SUMMARY_FILE

    summary = ctx.out / SUMMARY_FILE
    summary.unlink(missing_ok=True)
    per_node = ctx.recipe.train_procs_per_node()
    job_id = run_training(ctx.recipe, ctx.out, ctx.out / JOB_FILE, per_node)
    if not summary.is_file():
        log_file = ctx.out / "slurm" / f"{job_id}.log"
        lines = log_file.read_text(errors="replace").splitlines() if log_file.is_file() else []
        tail = "\n".join(f"  | {line}" for line in lines[-15:])
        raise StageError(
            f"train: Slurm job {job_id} ended before training finished; its log {log_file} "
            f"ends with:\n{tail}\nRun again to continue from the last checkpoint"
        )
    return json.loads(summary.read_text(encoding="utf-8"))


def _run_torchrun(ctx: StageContext, nproc: int, exit_requeue: int) -> dict[str, Any]:
    import json

    from openeurollm.train.job import JOB_FILE
    from openeurollm.train.loop import SUMMARY_FILE

    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={nproc}",
        "-m", "openeurollm.train.launch", "--job", str(ctx.out / JOB_FILE),
    ]  # fmt: skip
    env = dict(os.environ)
    if ctx.recipe.train.threads == 0:
        # Share the cores between the ranks instead of oversubscribing them.
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    (ctx.out / SUMMARY_FILE).unlink(missing_ok=True)
    ctx.log.info("train: %s", " ".join(cmd))
    proc = subprocess.Popen(cmd, env=env)

    signalled: list[int] = []

    def forward(signum: int, frame: object) -> None:
        # torchrun passes SIGTERM on to every rank (SIGUSR1 would just end torchrun itself).
        signalled.append(signum)
        proc.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGUSR1)}
    try:
        rc = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # The ranks exit with EXIT_REQUEUE after checkpointing; torchrun reports any non-zero
    # worker exit as its own failure, so the signal we forwarded is what tells the two apart.
    if rc == exit_requeue or (signalled and rc != 0):
        ctx.log.warning("train: stopped by a signal after checkpointing; rerun to continue")
        raise SystemExit(exit_requeue)
    summary = ctx.out / SUMMARY_FILE
    if rc != 0 or not summary.is_file():
        _raise_failure(ctx, rc, exit_requeue)
    return json.loads(summary.read_text(encoding="utf-8"))


def _raise_failure(ctx: StageContext, rc: int, exit_requeue: int) -> None:
    """The ranks' classified reason (train/failure.json): requeue or a one-line error."""
    from openeurollm.train import failure

    found = failure.read(ctx.out)
    if found is None:
        raise StageError(f"train: torchrun exited with code {rc}; see the log above")
    if found.get("reason") in failure.REQUEUE_REASONS:
        ctx.log.warning("train: %s; rerun to continue", found.get("message"))
        raise SystemExit(exit_requeue)
    raise StageError(f"train: {found.get('message')} (reason: {found.get('reason')})")
