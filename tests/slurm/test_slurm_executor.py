"""Data tasks through a real local Slurm: array jobs, retries after scancel, same bytes as local."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from openeurollm.config import recipe_from_dict
from openeurollm.pipeline.slurm import array_script, compress_indices
from openeurollm.pipeline.stage import StageContext
from openeurollm.pipeline.tasks import Task, run_tasks

pytestmark = pytest.mark.slurm

TASK_MODULE = """
import hashlib, time
from pathlib import Path

def write_digest(out: str, n: int, sleep: float = 0.0) -> dict:
    time.sleep(sleep)
    data = hashlib.sha256(str(n).encode()).hexdigest() * 100
    tmp = Path(out).with_suffix(".tmp-part")
    tmp.write_text(data)
    tmp.replace(out)
    return {"n": n, "bytes": len(data)}
"""


@pytest.fixture
def task_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "slurm_test_tasks.py").write_text(textwrap.dedent(TASK_MODULE))
    # sbatch exports the submitting environment, so array elements can import it too.
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}:{':'.join(sys.path)}")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "slurm_test_tasks:write_digest"


def _ctx(tmp_path: Path, kind: str, name: str) -> StageContext:
    (tmp_path / "in.jsonl").write_text('{"text": "x"}\n')
    recipe = recipe_from_dict(
        {
            "run": {"name": name, "root": str(tmp_path / "runs")},
            "ingest": {"inputs": [{"path": "in.jsonl"}]},
            "curate": {"filters": []},
            "executor": {
                "kind": kind,
                "workers": 2,
                "slurm": {"poll_seconds": 0.5, "array_throttle": 2},
            },
        },
        tmp_path,
    )
    out = recipe.run_dir / "stage"
    out.mkdir(parents=True)
    return StageContext(recipe=recipe, run_dir=recipe.run_dir, out=out, key="k1", resume=False)


def _tasks(ctx: StageContext, fn: str, n: int, sleep: float = 0.0) -> list[Task]:
    return [
        Task(f"t{i}", fn, {"out": str(ctx.out / f"{i}.txt"), "n": i, "sleep": sleep})
        for i in range(n)
    ]


def test_compress_indices() -> None:
    assert compress_indices([7, 0, 1, 2, 5, 8]) == "0-2,5,7-8"
    assert compress_indices([3]) == "3"


def test_array_script_has_throttle_requeue_and_profile(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, "slurm", "script")
    ctx.recipe.executor.slurm.partition = "boost_usr_prod"
    ctx.recipe.executor.slurm.setup = ["module load python/3.11"]
    script = array_script(ctx.recipe, ctx.out / ".stage-tasks", [0, 1, 2, 4])
    assert "#SBATCH --array=0-2,4%2" in script
    assert "#SBATCH --requeue" in script
    assert "#SBATCH --partition=boost_usr_prod" in script
    assert "module load python/3.11" in script
    assert "-m openeurollm.pipeline.tasks" in script and '"$SLURM_ARRAY_TASK_ID"' in script


def test_slurm_array_matches_local_byte_for_byte(
    local_slurm: object, tmp_path: Path, task_module: str
) -> None:
    outputs = {}
    for kind in ("local", "slurm"):
        ctx = _ctx(tmp_path, kind, kind)
        stats = run_tasks(ctx, _tasks(ctx, task_module, 5), desc=f"{kind} tasks")
        assert [s["n"] for s in stats] == list(range(5))
        outputs[kind] = {p.name: p.read_bytes() for p in sorted(ctx.out.glob("*.txt"))}
    assert outputs["local"] == outputs["slurm"] and len(outputs["slurm"]) == 5
    logs = list((tmp_path / "runs" / "slurm" / "stage" / ".stage-tasks" / "slurm").glob("*.log"))
    assert len(logs) == 5  # one log per array element


def test_cancelled_element_is_retried(
    local_slurm: object, tmp_path: Path, task_module: str
) -> None:
    ctx = _ctx(tmp_path, "slurm", "cancel")
    cancelled: list[str] = []

    def cancel_one_running() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not cancelled:
            out = subprocess.run(
                ["squeue", "-h", "-o", "%i %T"], capture_output=True, text=True
            ).stdout
            for line in out.splitlines():
                job, state = line.split()
                if state == "RUNNING" and "_" in job:
                    subprocess.run(["scancel", job], check=True)
                    cancelled.append(job)
                    return
            time.sleep(0.2)

    killer = threading.Thread(target=cancel_one_running)
    killer.start()
    stats = run_tasks(ctx, _tasks(ctx, task_module, 4, sleep=3.0), desc="cancel test")
    killer.join()
    assert cancelled, "no running array element was seen to cancel"
    assert [s["n"] for s in stats] == [0, 1, 2, 3]
    assert sorted(p.name for p in ctx.out.glob("*.txt")) == ["0.txt", "1.txt", "2.txt", "3.txt"]
    # the retry was a second submission of just the cancelled element
    assert (ctx.out / ".stage-tasks" / "slurm" / "attempt-1.sbatch").exists()
    retry = (ctx.out / ".stage-tasks" / "slurm" / "attempt-1.sbatch").read_text()
    assert f"--array={cancelled[0].split('_')[1]}%" in retry
