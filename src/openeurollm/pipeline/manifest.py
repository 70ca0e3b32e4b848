"""manifest.json: one entry per stage with its key, inputs, outputs, timings and record."""

from __future__ import annotations

import datetime as dt
import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from openeurollm import __version__
from openeurollm.errors import StageError
from openeurollm.io.fileio import read_json, write_json

MANIFEST_FORMAT = 1
_PACKAGES = ("numpy", "pyarrow", "py3langid", "tokenizers", "safetensors", "torch", "transformers")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def git_state(folder: Path) -> dict[str, Any]:
    """The git commit of `folder` and whether it has uncommitted changes to tracked files;
    "not recorded" when the folder is not tracked in a git checkout (an installed wheel, or a
    virtualenv inside a repository)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    if not git("ls-files", "--", "."):
        return {"commit": "not recorded (not a git checkout)", "dirty": None}
    commit = git("rev-parse", "HEAD") or "not recorded (git rev-parse failed)"
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


@functools.cache
def code_version() -> dict[str, Any]:
    """git_state of the openeurollm package this process runs, taken once (at run start)."""
    return git_state(Path(__file__).resolve().parents[1])


def software_versions() -> dict[str, str]:
    """Versions that shape outputs; read from metadata so nothing heavy gets imported."""
    code = code_version()
    out = {"openeurollm": __version__, "python": platform.python_version()}
    out["openeurollm_commit"] = code["commit"] + (" (uncommitted changes)" if code["dirty"] else "")
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


class Manifest:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @classmethod
    def load(cls, run_dir: Path) -> Manifest:
        path = Path(run_dir) / "manifest.json"
        if path.exists():
            try:
                data = read_json(path)
            except (OSError, ValueError) as exc:
                raise StageError(
                    f"{path} is unreadable ({exc}); move it away to start the run afresh"
                ) from None
            if data.get("format") != MANIFEST_FORMAT:
                raise StageError(
                    f"{path} has format {data.get('format')!r}, expected {MANIFEST_FORMAT}"
                )
            return cls(path, data)
        return cls(
            path, {"format": MANIFEST_FORMAT, "created_at": now(), "stages": {}, "history": []}
        )

    @property
    def stages(self) -> dict[str, dict[str, Any]]:
        return self.data["stages"]

    def entry(self, stage: str) -> dict[str, Any] | None:
        return self.stages.get(stage)

    def is_done(self, stage: str) -> bool:
        entry = self.entry(stage)
        return bool(entry and entry.get("status") == "done")

    def records(self) -> dict[str, dict[str, Any]]:
        return {
            name: e.get("record", {})
            for name, e in self.stages.items()
            if e.get("status") == "done"
        }

    def event(self, stage: str, what: str, **extra: Any) -> None:
        self.data["history"].append({"time": now(), "stage": stage, "event": what, **extra})

    def save(self) -> None:
        write_json(self.path, self.data)
