"""Slurm executor: data stages as one `sbatch --array` job per stage, polled until done.

We drive Slurm rather than schedule anything ourselves. Each array element runs
`python -m openeurollm.pipeline.tasks TASK_DIR $SLURM_ARRAY_TASK_ID`, the same entry point
the local executor calls, so both write byte-identical outputs. Elements that end without
a done-marker (cancelled, failed, node lost) are resubmitted up to `retries` times.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from openeurollm.config import Recipe, SlurmConfig
from openeurollm.errors import StageError
from openeurollm.io.fileio import atomic_open, read_json
from openeurollm.pipeline.executors import EXECUTORS, Executor
from openeurollm.pipeline.tasks import marker_stats
from openeurollm.train.signals import STOP_FILE

log = logging.getLogger("openeurollm")


def compress_indices(indices: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8' (the --array syntax)."""
    out: list[str] = []
    ordered = sorted(set(indices))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def sbatch_directives(cfg: SlurmConfig, job_name: str, time_limit: str, log_path: str) -> list[str]:
    lines = [
        f"#SBATCH --job-name={job_name}",
        f"#SBATCH --time={time_limit}",
        f"#SBATCH --output={log_path}",
        "#SBATCH --requeue",
    ]
    for flag, value in (
        ("partition", cfg.partition),
        ("account", cfg.account),
        ("qos", cfg.qos),
        ("mem", cfg.mem),
    ):
        if value:
            lines.append(f"#SBATCH --{flag}={value}")
    lines += [f"#SBATCH {extra}" for extra in cfg.extra_sbatch]
    return lines


def command_prefix(cfg: SlurmConfig, gpus: bool = False) -> str:
    """`apptainer exec` when the profile names a container, else nothing."""
    if not cfg.container:
        return ""
    flag = (" --nv" if cfg.gpu_vendor == "nvidia" else " --rocm") if gpus else ""
    return f"{cfg.container_runtime} exec{flag} {shlex.quote(cfg.container)} "


def python_of(cfg: SlurmConfig) -> str:
    """The interpreter jobs run: the profile's, else inside a container the image's own
    `python3` (the login node's venv does not exist in the image), else the one running us."""
    if cfg.python:
        return cfg.python
    return "python3" if cfg.container else sys.executable


def array_script(
    recipe: Recipe, task_dir: Path, indices: list[int] | None, n_tasks: int | None = None
) -> str:
    """The batch script for one stage's tasks (indices None: all, for --dry-run)."""
    cfg = recipe.executor.slurm
    stage = task_dir.parent.name
    array = compress_indices(indices) if indices is not None else f"0-{(n_tasks or 1) - 1}"
    lines = [
        "#!/bin/bash",
        *sbatch_directives(
            cfg, f"oellm-{recipe.run.name}-{stage}", cfg.time, f"{task_dir}/slurm/%A_%a.log"
        ),
        f"#SBATCH --array={array}%{cfg.array_throttle}",
        "#SBATCH --ntasks=1",
        f"#SBATCH --cpus-per-task={cfg.cpus_per_task}",
        "set -euo pipefail",
        f"cd {shlex.quote(str(Path.cwd()))}",
        *cfg.setup,
        f"exec {command_prefix(cfg)}{shlex.quote(python_of(cfg))} -m openeurollm.pipeline.tasks "
        f'{shlex.quote(str(task_dir))} "$SLURM_ARRAY_TASK_ID"',
    ]
    return "\n".join(lines) + "\n"


def submit(script: Path) -> str:
    """sbatch a script; returns the job id."""
    try:
        result = subprocess.run(
            ["sbatch", "--parsable", str(script)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except FileNotFoundError:
        raise StageError(
            "executor.kind is slurm but `sbatch` is not on PATH; load Slurm or use kind: local"
        ) from None
    if result.returncode != 0:
        raise StageError(
            f"sbatch {script} failed: {result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout.strip().split(";")[0]


# Job states after which nothing of the job will run again (a requeued job passes through
# REQUEUED and PENDING instead, and may briefly be missing from squeue's listing).
TERMINAL = frozenset(
    {
        "COMPLETED",
        "CANCELLED",
        "FAILED",
        "TIMEOUT",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
    }
)


def job_states(job_id: str) -> dict[str, str]:
    """State of every element of a job that is not finished yet ({} when all are)."""
    result = subprocess.run(
        ["scontrol", "-o", "show", "job", job_id],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        if "invalid job id" in (result.stderr + result.stdout).lower():
            return {}  # purged from the controller: long finished
        # Anything else (a busy controller timing out, say) tells us nothing: keep waiting.
        return {job_id: "UNKNOWN"}
    states = {}
    for line in result.stdout.splitlines():
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        state = fields.get("JobState", "")
        if state and state not in TERMINAL:
            states[f"{fields.get('JobId')}_{fields.get('ArrayTaskId', '')}"] = state
    return states


def wait_for(
    job_id: str, poll: float, done_count: Callable[[], int], total: int, desc: str
) -> None:
    last_report = 0.0
    while True:
        states = job_states(job_id)
        if not states:
            return
        now = time.monotonic()
        if now - last_report > 30:
            running = sum(1 for s in states.values() if s == "RUNNING")
            log.info(
                "%s: slurm job %s: %d/%d done, %d running",
                desc,
                job_id,
                done_count(),
                total,
                running,
            )
            last_report = now
        time.sleep(poll)


@EXECUTORS.register("slurm")
class SlurmExecutor(Executor):
    def run(self, task_dir: Path, pending: list[int], desc: str) -> None:
        cfg = self.recipe.executor.slurm
        key = read_json(task_dir / "tasks.json")["key"]
        (task_dir / "slurm").mkdir(parents=True, exist_ok=True)

        def missing(indices: list[int]) -> list[int]:
            return [i for i in indices if marker_stats(task_dir, i, key) is None]

        remaining = list(pending)
        for attempt in range(cfg.retries + 1):
            script = task_dir / "slurm" / f"attempt-{attempt}.sbatch"
            with atomic_open(script) as fh:
                fh.write(array_script(self.recipe, task_dir, remaining))
            job_id = submit(script)
            log.info(
                "%s: submitted slurm job %s (%d tasks, attempt %d)",
                desc,
                job_id,
                len(remaining),
                attempt + 1,
            )
            batch = list(remaining)
            wait_for(
                job_id, cfg.poll_seconds, lambda b=batch: len(b) - len(missing(b)), len(batch), desc
            )
            remaining = missing(remaining)
            if not remaining:
                return
            log.warning(
                "%s: %d task(s) ended without a done-marker: %s",
                desc,
                len(remaining),
                compress_indices(remaining),
            )
        raise StageError(
            f"{desc}: task(s) {compress_indices(remaining)} failed in {cfg.retries + 1} attempts; "
            f"see the logs in {task_dir / 'slurm'}"
        )

    def describe(self) -> str:
        """The scripts a run would submit (for --dry-run)."""
        from openeurollm.pipeline.stages.ingest import input_files

        run_dir = self.recipe.run_dir
        n_ingest = len(input_files(self.recipe))
        parts = [f"# ---- ingest: sbatch array of {n_ingest} task(s)"]
        parts.append(array_script(self.recipe, run_dir / "ingest" / ".stage-tasks", None, n_ingest))
        parts.append("# ---- curate: sbatch array, one task per ingest shard (sized at run time)")
        parts.append(array_script(self.recipe, run_dir / "curate" / ".stage-tasks", None, n_ingest))
        parts.append("# ---- train: srun torchrun, requeued on the time-limit warning")
        train_dir = run_dir / "train"
        parts.append(
            train_script(
                self.recipe, train_dir, train_dir / "job.json", self.recipe.train_procs_per_node()
            )
        )
        return "\n".join(parts)


# ---------------------------------------------------------------- training

# The batch shell traps Slurm's warning signal and creates train/STOP_FILE; every rank checks
# it between optimizer steps, checkpoints and exits; the job then requeues itself and resumes.
TRAIN_ENTRY = "openeurollm.train.launch"


def train_script(recipe: Recipe, train_dir: Path, job_file: Path, nproc_per_node: int) -> str:
    cfg = recipe.executor.slurm
    partition = cfg.train_partition or cfg.partition
    directives = sbatch_directives(
        cfg.model_copy(update={"partition": partition, "mem": cfg.train_mem or cfg.mem}),
        f"oellm-{recipe.run.name}-train",
        cfg.train_time,
        f"{train_dir}/slurm/%j.log",
    )
    directives += [
        f"#SBATCH --nodes={cfg.nodes}",
        "#SBATCH --ntasks-per-node=1",
        f"#SBATCH --cpus-per-task={cfg.train_cpus_per_node or cfg.cpus_per_task}",
        f"#SBATCH --signal=B:USR1@{cfg.signal_seconds}",
        "#SBATCH --open-mode=append",
    ]
    if cfg.gpus_per_node:
        directives.append(f"#SBATCH --gpus-per-node={cfg.gpus_per_node}")
    stop = shlex.quote(str(train_dir / STOP_FILE))
    launcher = (
        f"{command_prefix(cfg, gpus=cfg.gpus_per_node > 0)}{shlex.quote(python_of(cfg))} -m torch.distributed.run "
        f'--nnodes="$SLURM_NNODES" --nproc_per_node={nproc_per_node} --rdzv_id="$SLURM_JOB_ID" '
        f'--rdzv_backend=c10d --rdzv_endpoint="$head:$port" -m {TRAIN_ENTRY} --job {shlex.quote(str(job_file))}'
    )
    lines = [
        "#!/bin/bash",
        *directives,
        "set -u",
        f"cd {shlex.quote(str(Path.cwd()))}",
        *cfg.setup,
        f"rm -f {stop}",
        'echo "train job $SLURM_JOB_ID start (restart ${SLURM_RESTART_COUNT:-0}) on $SLURM_JOB_NODELIST"',
        f"trap 'touch {stop}' USR1 TERM",
        'head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        # A rendezvous port per job: jobs sharing a node must not meet on one fixed port.
        "port=$((20000 + SLURM_JOB_ID % 20000))",
        f"srun --kill-on-bad-exit=1 {launcher} &",
        "pid=$!",
        # `wait` returns early when a trapped signal arrives; keep waiting for srun itself.
        'while true; do wait "$pid"; rc=$?; kill -0 "$pid" 2>/dev/null || break; done',
        # Requeue, then wait to be stopped by it: exiting at once can complete the job before
        # the requeue takes hold.
        f'if [ -e {stop} ]; then echo "stop requested: requeue"; scontrol requeue "$SLURM_JOB_ID" && sleep 600; exit 1; fi',
        'exit "$rc"',
    ]
    return "\n".join(lines) + "\n"


def run_training(recipe: Recipe, train_dir: Path, job_file: Path, nproc_per_node: int) -> str:
    """Submit the training job and wait until it has left the queue (requeues included).
    Returns the job id; the job's output is in `train_dir/slurm/JOBID.log`."""
    cfg = recipe.executor.slurm
    (train_dir / "slurm").mkdir(parents=True, exist_ok=True)
    script = train_dir / "slurm" / "train.sbatch"
    with atomic_open(script) as fh:
        fh.write(train_script(recipe, train_dir, job_file, nproc_per_node))
    job_id = submit(script)
    log.info(
        "train: submitted slurm job %s (%d node(s) x %d process(es))",
        job_id,
        cfg.nodes,
        nproc_per_node,
    )
    wait_for(job_id, cfg.poll_seconds, lambda: 0, 1, "train")
    return job_id
