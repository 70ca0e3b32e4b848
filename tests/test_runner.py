"""Runner mechanics on three tiny stages: reuse, downstream reruns, resume, failure, corruption."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from openeurollm.config import Recipe, recipe_from_dict
from openeurollm.errors import RunLockedError, StageError
from openeurollm.pipeline import runner
from openeurollm.pipeline.lock import RunLock
from openeurollm.pipeline.manifest import Manifest
from openeurollm.pipeline.stage import Stage, StageContext
from openeurollm.registry import Registry

CALLS: list[str] = []


class First(Stage):
    name = "first"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"steps": recipe.train.steps}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        CALLS.append(self.name)
        (ctx.out / "value.txt").write_text(str(ctx.recipe.train.steps))
        return {"value": ctx.recipe.train.steps}


class Second(Stage):
    name = "second"
    after = ("first",)

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"lr": recipe.train.lr}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        CALLS.append(self.name)
        value = int((ctx.input("first") / "value.txt").read_text())
        (ctx.out / "double.txt").write_text(f"{2 * value} at lr {ctx.recipe.train.lr}")
        return {
            "double": 2 * value,
            "seen_first": ctx.record("first")["value"],
            "resumed": ctx.resume,
        }


class Third(Stage):
    name = "third"
    after = ("second",)
    fail = False

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        CALLS.append(self.name)
        if Third.fail:
            raise StageError("planned failure")
        (ctx.out / "done.txt").write_text("ok")
        return {}


@pytest.fixture
def fake_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry[type[Stage]] = Registry("stage")
    for cls in (First, Second, Third):
        registry.register(cls.name)(cls)
    monkeypatch.setattr(runner, "STAGES", registry)
    monkeypatch.setattr(runner, "STAGE_ORDER", ("first", "second", "third"))
    CALLS.clear()
    Third.fail = False


def _recipe(tmp_path: Path, **train: Any) -> Recipe:
    (tmp_path / "in.jsonl").write_text('{"text": "x"}\n')
    data = {
        "run": {"name": "t", "root": str(tmp_path / "runs")},
        "ingest": {"inputs": [{"path": "in.jsonl"}]},
    }
    data["train"] = train
    return recipe_from_dict(data, tmp_path)


def test_rerun_reuses_everything(fake_chain: None, tmp_path: Path) -> None:
    runner.run_pipeline(_recipe(tmp_path, steps=3))
    assert CALLS == ["first", "second", "third"]
    CALLS.clear()
    manifest = runner.run_pipeline(_recipe(tmp_path, steps=3))
    assert CALLS == []
    assert manifest.stages["second"]["record"]["double"] == 6


def test_change_reruns_only_downstream(fake_chain: None, tmp_path: Path) -> None:
    runner.run_pipeline(_recipe(tmp_path, steps=3, lr=0.1))
    CALLS.clear()
    runner.run_pipeline(_recipe(tmp_path, steps=3, lr=0.2))
    assert CALLS == ["second", "third"]
    CALLS.clear()
    runner.run_pipeline(_recipe(tmp_path, steps=4, lr=0.2))
    assert CALLS == ["first", "second", "third"]
    plan = runner.plan(_recipe(tmp_path, steps=5, lr=0.2))
    assert [(p.stage, p.action) for p in plan] == [
        ("first", "run"),
        ("second", "run"),
        ("third", "run"),
    ]
    assert [p.action for p in runner.plan(_recipe(tmp_path, steps=4, lr=0.2))] == ["reuse"] * 3


def test_failed_stage_is_recorded_and_retried(fake_chain: None, tmp_path: Path) -> None:
    Third.fail = True
    with pytest.raises(StageError, match="planned failure"):
        runner.run_pipeline(_recipe(tmp_path))
    manifest = Manifest.load(tmp_path / "runs" / "t")
    assert manifest.stages["third"]["status"] == "failed"
    assert "planned failure" in manifest.stages["third"]["error"]
    Third.fail = False
    CALLS.clear()
    runner.run_pipeline(_recipe(tmp_path))
    assert CALLS == ["third"]


def test_interrupted_stage_gets_resume_flag(fake_chain: None, tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    runner.run_pipeline(recipe, until="first")
    # Simulate a run killed inside "second": its folder holds the key, the manifest says running.
    key, _ = runner._stage_key(Second(), recipe, Manifest.load(recipe.run_dir))
    (recipe.run_dir / "second").mkdir()
    (recipe.run_dir / "second" / runner.KEY_FILE).write_text(key)
    manifest = runner.run_pipeline(recipe)
    assert manifest.stages["second"]["record"]["resumed"] is True


def test_corrupted_output_is_detected_with_file_name(fake_chain: None, tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    runner.run_pipeline(recipe)
    target = recipe.run_dir / "first" / "value.txt"
    target.write_text("999")
    with pytest.raises(StageError, match=r"first/value\.txt has changed .*--force first"):
        runner.run_pipeline(recipe)
    CALLS.clear()
    runner.run_pipeline(recipe, force=("first",))
    assert CALLS == ["first"]  # identical output again, so downstream is reused
    assert target.read_text() == "300"  # rewritten from the recipe (default train.steps)


def test_second_run_on_same_directory_is_refused(tmp_path: Path) -> None:
    code = "import sys,time; from openeurollm.pipeline.lock import RunLock\nwith RunLock(sys.argv[1]): print('locked', flush=True); time.sleep(30)"
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"in use by pid {holder.pid}"), RunLock(tmp_path):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 5
    while True:  # the kernel releases the lock when its holder dies
        try:
            with RunLock(tmp_path):
                break
        except RunLockedError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert os.path.exists(tmp_path / ".lock")
