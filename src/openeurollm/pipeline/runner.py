"""The runner: walk the stages in order, reuse what is done, run what changed, record it all."""

from __future__ import annotations

import errno
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeurollm.config import Recipe, recipe_to_dict
from openeurollm.errors import OpenEuroLLMError, StageError
from openeurollm.io.fileio import (
    NonFiniteJSONError,
    digest_of,
    dumps_strict,
    file_sha256,
    tree_files,
)
from openeurollm.pipeline.lock import RunLock
from openeurollm.pipeline.manifest import Manifest, code_version, now, software_versions
from openeurollm.pipeline.stage import STAGE_ORDER, STAGES, Stage, StageContext

log = logging.getLogger("openeurollm")
KEY_FILE = ".stage-key"
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


@dataclass
class PlanItem:
    stage: str
    action: str  # "reuse" or "run"
    reason: str


def _stage_key(stage: Stage, recipe: Recipe, manifest: Manifest) -> tuple[str, dict[str, Any]]:
    upstream = {}
    for name in stage.after:
        entry = manifest.entry(name)
        upstream[name] = (
            entry.get("output_digest") if entry and entry.get("status") == "done" else None
        )
    external = {}
    for path in stage.external_inputs(recipe):
        # Relative to the recipe so the same run in another checkout has the same key.
        try:
            name = Path(path).resolve().relative_to(recipe.base_dir).as_posix()
        except ValueError:
            name = str(path)
        external[name] = file_sha256(path) if path.is_file() else "missing"
    inputs = {"stages": upstream, "files": external}
    key = digest_of(
        {
            "stage": stage.name,
            "version": stage.version,
            "config": stage.config(recipe),
            "inputs": inputs,
        }
    )
    return key, inputs


def verify_stage_outputs(run_dir: Path, stage: str, entry: dict[str, Any]) -> None:
    """Check a finished stage's files against the checksums recorded when they were written:
    each recorded file is there unchanged, and nothing else is (a file dropped into a finished
    stage's folder would otherwise be read by the next stage as if the stage had written it)."""
    recorded: dict[str, str] = entry.get("files", {})
    cls = STAGES.get(stage)
    actual = tree_files(run_dir / stage, cls.digest_exclude)
    unrecorded = sorted(set(actual) - set(recorded))
    if unrecorded:
        more = f" (and {len(unrecorded) - 1} more)" if len(unrecorded) > 1 else ""
        raise StageError(
            f"{run_dir / stage / unrecorded[0]}{more} was not written by the {stage} stage "
            f"(not in its recorded files); move it out of {run_dir / stage}, or rebuild the "
            f"stage with: openeurollm run RECIPE --force {stage}"
        )
    for rel, digest in recorded.items():
        got = actual.get(rel)
        if got != digest:
            what = (
                "is missing"
                if got is None
                else "has changed since it was written (checksum mismatch)"
            )
            raise StageError(
                f"{run_dir / stage / rel} {what}; its content cannot be trusted. "
                f"Recover with: openeurollm run RECIPE --force {stage}"
            )


def check_run_directory(run_dir: Path) -> None:
    """Refuse a folder that is not a run: a run starts empty and keeps its manifest.json, and
    a stage clears its own subfolder, so a folder like `victim/ingest/` would be deleted."""
    if (run_dir / "manifest.json").exists() or not run_dir.is_dir():
        return
    try:
        others = sorted(p.name for p in run_dir.iterdir() if p.name != ".lock")
    except OSError as exc:
        raise StageError(f"cannot read run directory {run_dir}: {exc.strerror}") from None
    if others:
        raise StageError(
            f"{run_dir} is not empty ({others[0]!r}{' ...' if len(others) > 1 else ''}) and holds no "
            "manifest.json, so it is not a run directory; nothing was changed. Choose another "
            "run.name or run.root"
        )


def _record_dead_stages(manifest: Manifest) -> None:
    """A stage still 'running' when we hold the lock was running in a process that died
    (SIGKILL, an abort in native code, a full disk while saving): say so in the history."""
    for name, entry in manifest.stages.items():
        if entry.get("status") == "running":
            entry.update(status="failed", error="interrupted: the process running it stopped")
            manifest.event(name, "failed", error="interrupted: the process running it stopped")


def _select(until: str | None) -> tuple[str, ...]:
    if until is None:
        return STAGE_ORDER
    if until not in STAGE_ORDER:
        raise OpenEuroLLMError(STAGES.unknown_message(until))
    return STAGE_ORDER[: STAGE_ORDER.index(until) + 1]


def plan(recipe: Recipe, until: str | None = None, force: tuple[str, ...] = ()) -> list[PlanItem]:
    """What a run would do, without doing it. Downstream of a stage that runs, stages run too
    (their inputs will have new digests unless the upstream output comes out identical)."""
    check_run_directory(recipe.run_dir)
    manifest = Manifest.load(recipe.run_dir)
    items: list[PlanItem] = []
    running: set[str] = set()
    for name in _select(until):
        stage = STAGES.get(name)()
        entry = manifest.entry(name)
        key, _ = _stage_key(stage, recipe, manifest)
        if name in force:
            action, reason = "run", "forced"
        elif not entry or entry.get("status") != "done":
            action, reason = (
                "run",
                "not done yet" if not entry else f"last status: {entry.get('status')}",
            )
        elif running & set(stage.after):
            action, reason = "run", f"after {', '.join(sorted(running & set(stage.after)))}"
        elif entry.get("key") != key:
            action, reason = "run", "config or inputs changed"
        else:
            action, reason = "reuse", "unchanged"
        if action == "run":
            running.add(name)
        items.append(PlanItem(name, action, reason))
    return items


def run_pipeline(
    recipe: Recipe,
    until: str | None = None,
    force: tuple[str, ...] = (),
    recipe_path: str | None = None,
) -> Manifest:
    for name in force:
        if name not in STAGE_ORDER:
            raise OpenEuroLLMError(f"--force: {STAGES.unknown_message(name)}")
    run_dir = recipe.run_dir
    check_run_directory(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(run_dir):
        manifest = Manifest.load(run_dir)
        _record_dead_stages(manifest)
        manifest.data["run"] = recipe.run.name
        manifest.data["recipe"] = recipe_to_dict(recipe)
        manifest.data["code"] = code_version()  # the commit this run (re)started with
        if recipe_path:
            manifest.data["recipe_path"] = str(recipe_path)
        manifest.save()
        t_all = time.monotonic()
        ran: list[str] = []
        for name in _select(until):
            stage = STAGES.get(name)()
            for upstream in stage.after:
                if not manifest.is_done(upstream):
                    raise StageError(f"stage {name} needs {upstream}, which has not finished")
                verify_stage_outputs(run_dir, upstream, manifest.entry(upstream) or {})
            key, inputs = _stage_key(stage, recipe, manifest)
            entry = manifest.entry(name)
            if (
                entry
                and entry.get("status") == "done"
                and entry.get("key") == key
                and name not in force
            ):
                verify_stage_outputs(run_dir, name, entry)
                log.info("%-9s reused (unchanged since %s)", name, entry.get("finished_at", "?"))
                continue
            _run_stage(stage, recipe, manifest, key, inputs, fresh=name in force)
            ran.append(name)
        log.info(
            "run %s: %d stage(s) ran%s in %.1fs -> %s",
            recipe.run.name,
            len(ran),
            f" ({', '.join(ran)})" if ran else "",
            time.monotonic() - t_all,
            run_dir,
        )
        return manifest


def _run_stage(
    stage: Stage,
    recipe: Recipe,
    manifest: Manifest,
    key: str,
    inputs: dict[str, Any],
    fresh: bool = False,
) -> None:
    run_dir = recipe.run_dir
    out = run_dir / stage.name
    key_file = out / KEY_FILE
    # Partial work of an interrupted run with the same key is handed to the stage to
    # continue (train resumes from its checkpoints, data stages from task markers);
    # anything else in the folder is stale and goes. A forced stage always starts clean: it
    # is how a damaged output is rebuilt, so nothing in the folder may be trusted.
    resume = not fresh and key_file.exists() and key_file.read_text().strip() == key
    if not resume and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)
    started = now()
    manifest.stages[stage.name] = {
        "status": "running",
        "key": key,
        "config": stage.config(recipe),
        "inputs": inputs,
        "started_at": started,
        "resumed": resume,
    }
    manifest.event(stage.name, "start", resumed=resume)
    manifest.save()
    log.info("%-9s running%s", stage.name, " (resuming)" if resume else "")
    ctx = StageContext(
        recipe=recipe,
        run_dir=run_dir,
        out=out,
        key=key,
        resume=resume,
        records=manifest.records(),
        entries={n: e for n, e in manifest.stages.items() if e.get("status") == "done"},
    )
    t0 = time.monotonic()
    try:
        try:
            record = stage.run(ctx)
            # The record as a later process reads it back from manifest.json (sorted keys,
            # JSON types), so documents rendered from it cannot depend on whether the stage
            # ran in this process or an earlier one; a NaN in it fails here, by name.
            record = json.loads(
                dumps_strict(record, f"the {stage.name} stage record", sort_keys=True)
            )
        except NonFiniteJSONError as exc:
            raise StageError(f"{stage.name}: {exc}") from None
        except OSError as exc:
            if exc.errno not in DISK_ERRNOS:
                raise
            where = exc.filename or out
            raise StageError(
                f"{stage.name}: {exc.strerror or 'disk full'} while writing {where}. Nothing partial was "
                "marked done; free space (or raise the quota) and run the same command again to continue"
            ) from None
    except BaseException as exc:
        manifest.stages[stage.name].update(
            status="failed", finished_at=now(), error=f"{type(exc).__name__}: {exc}"
        )
        manifest.event(stage.name, "failed", error=f"{type(exc).__name__}: {exc}")
        manifest.save()
        raise
    seconds = time.monotonic() - t0
    files = tree_files(out, stage.digest_exclude)
    manifest.stages[stage.name].update(
        status="done",
        finished_at=now(),
        seconds=round(seconds, 3),
        record=record,
        files=files,
        output_digest=digest_of(files),
        versions=software_versions(),
    )
    # The whole entry in the form a later process reads back (see the record above).
    manifest.stages[stage.name] = json.loads(
        json.dumps(manifest.stages[stage.name], sort_keys=True)
    )
    manifest.event(stage.name, "done", seconds=round(seconds, 3))
    manifest.save()
    log.info("%-9s done in %.1fs", stage.name, seconds)
