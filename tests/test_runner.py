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


def test_file_dropped_into_a_finished_stage_is_refused(fake_chain: None, tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    runner.run_pipeline(recipe)
    planted = recipe.run_dir / "first" / "planted.parquet"
    planted.write_text("uncurated")
    # was: `--force second` read the planted file as if `first` had written it
    with pytest.raises(StageError) as err:
        runner.run_pipeline(recipe, force=("second",))
    assert str(planted) in str(err.value)
    assert "was not written by the first stage" in str(err.value)
    assert "--force first" in str(err.value)
    planted.unlink()
    CALLS.clear()
    runner.run_pipeline(recipe, force=("second",))
    assert CALLS == ["second"]


def test_folder_that_is_not_a_run_is_refused_untouched(fake_chain: None, tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    victim = recipe.run_dir / "first" / "important.txt"
    victim.parent.mkdir(parents=True)
    victim.write_text("keep me")
    for attempt in (runner.run_pipeline, runner.plan):
        with pytest.raises(StageError, match=r"holds no manifest\.json, so it is not a run"):
            attempt(recipe)
    assert victim.read_text() == "keep me"
    assert CALLS == []
    # an empty folder (or one left with only the lock by a killed first run) is fine
    victim.unlink()
    victim.parent.rmdir()
    (recipe.run_dir / ".lock").write_text("")
    runner.run_pipeline(recipe)
    assert CALLS == ["first", "second", "third"]


def test_stage_left_running_by_a_dead_process_is_recorded_failed(
    fake_chain: None, tmp_path: Path
) -> None:
    recipe = _recipe(tmp_path)
    runner.run_pipeline(recipe, until="first")
    manifest = Manifest.load(recipe.run_dir)
    manifest.stages["second"] = {"status": "running", "key": "k", "started_at": "then"}
    manifest.save()  # as a process killed (or aborted in native code) inside `second` leaves it
    runner.run_pipeline(recipe)
    history = Manifest.load(recipe.run_dir).data["history"]
    events = [(e["stage"], e["event"]) for e in history if e["stage"] == "second"]
    assert events == [("second", "failed"), ("second", "start"), ("second", "done")]
    failed = next(e for e in history if e["stage"] == "second" and e["event"] == "failed")
    assert failed["error"] == "interrupted: the process running it stopped"


def test_nan_in_a_stage_record_fails_the_stage_by_name(
    fake_chain: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Third, "run", lambda self, ctx: {"loss": float("nan")})
    recipe = _recipe(tmp_path)
    with pytest.raises(
        StageError, match="third: the third stage record: refusing to write a non-finite"
    ):
        runner.run_pipeline(recipe)
    import json

    data = json.loads((recipe.run_dir / "manifest.json").read_text())  # still valid JSON
    assert data["stages"]["third"]["status"] == "failed"


def test_run_files_honour_the_umask(fake_chain: None, tmp_path: Path) -> None:
    from openeurollm.io.fileio import atomic_open

    old = os.umask(0o022)
    try:
        recipe = _recipe(tmp_path)
        runner.run_pipeline(recipe)
        with atomic_open(recipe.run_dir / "published.txt") as fh:
            fh.write("x")
        os.umask(0o077)
        with atomic_open(recipe.run_dir / "private.txt") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    # was: 0600 whatever the umask (mkstemp), carried by the rename to manifest.json,
    # report.html and every release file
    assert (recipe.run_dir / "manifest.json").stat().st_mode & 0o777 == 0o644
    assert (recipe.run_dir / "published.txt").stat().st_mode & 0o777 == 0o644
    assert (recipe.run_dir / "private.txt").stat().st_mode & 0o777 == 0o600
