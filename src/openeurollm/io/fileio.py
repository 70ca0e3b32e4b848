"""Atomic writes and content digests: every file a later stage or a rerun trusts goes through here."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_CHUNK = 1 << 20


def _new_temporary(path: Path) -> Path:
    """Create an empty temporary file beside `path`, mode 0666 less the umask.

    Not `mkstemp`: it creates files 0600 whatever the umask, and the rename would carry that
    mode to manifest.json, report.html and every published release file.
    """
    for _ in range(100):
        tmp = path.parent / f".tmp-{path.name[:200]}.{secrets.token_hex(4)}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds.

    The temporary file lives in the same folder so the rename is atomic, and its name
    starts with '.tmp-' so readers and digests ignore leftovers of a killed process.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _new_temporary(path)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextmanager
def atomic_open(path: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    with atomic_path(path) as tmp:
        if "b" in mode:
            encoding = None
        with open(tmp, mode, encoding=encoding) as fh:
            yield fh


class NonFiniteJSONError(ValueError):
    """A NaN or an infinity on its way into a JSON file (the runner reports it as a stage error)."""


def dumps_strict(data: Any, where: str | Path, **options: Any) -> str:
    """JSON text, refusing NaN and infinities (which `json` would write as bare `NaN`, a file
    no JSON parser accepts) with an error naming the file or record."""
    try:
        return json.dumps(data, allow_nan=False, **options)
    except ValueError as exc:
        raise NonFiniteJSONError(
            f"{where}: refusing to write a non-finite number (NaN or infinity) as JSON ({exc}); "
            "the value it holds is broken upstream"
        ) from None


def write_json(path: Path, data: Any) -> None:
    text = dumps_strict(data, path, indent=2, sort_keys=True, ensure_ascii=False)
    with atomic_open(path) as fh:
        fh.write(text + "\n")


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_scratch(rel: Path) -> bool:
    """Files that are bookkeeping, not output: temporaries, markers, locks. `.tmp` covers ours
    (`.tmp-NAME.XXXX`) and those of libraries that save through Rust's tempfile crate
    (`.tmpXXXXXX`: tokenizers, safetensors), which a kill mid-save leaves behind."""
    return any(part.startswith((".tmp", ".stage-", ".lock")) for part in rel.parts)


def tree_files(root: Path, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every output file under `root`, keyed by POSIX relative path, sorted."""
    out: dict[str, str] = {}
    if not root.exists():
        return out
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if is_scratch(rel) or any(rel.as_posix().startswith(ex) for ex in exclude):
            continue
        out[rel.as_posix()] = file_sha256(path)
    return out


def digest_of(obj: Any) -> str:
    """Stable digest of a JSON-able object (config sections, file tables)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
