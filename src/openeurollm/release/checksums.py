"""SHA256SUMS for a release folder, and its verification.

The file uses the `sha256sum` format ("<hex>  <path>"), so `sha256sum -c SHA256SUMS`
works without our tool. It is written last: it covers every other file in the folder.
"""

from __future__ import annotations

from pathlib import Path

from openeurollm.errors import StageError
from openeurollm.io.fileio import atomic_open, file_sha256, is_scratch

SUMS_NAME = "SHA256SUMS"
SIGNATURE_NAME = "SHA256SUMS.sig"  # written after SHA256SUMS: it signs it (release/signing.py)


def release_files(release_dir: Path) -> list[str]:
    """Every published file under `release_dir` except SHA256SUMS itself, as sorted POSIX paths."""
    root = Path(release_dir)
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if (
            path.is_file()
            and rel.as_posix() not in (SUMS_NAME, SIGNATURE_NAME)
            and not is_scratch(rel)
        ):
            out.append(rel.as_posix())
    return sorted(out)


def write_sha256sums(release_dir: Path) -> Path:
    """Write SHA256SUMS over every file of the release; returns its path."""
    root = Path(release_dir)
    lines = [f"{file_sha256(root / rel)}  {rel}\n" for rel in release_files(root)]
    path = root / SUMS_NAME
    with atomic_open(path) as fh:
        fh.writelines(lines)
    return path


def read_sha256sums(path: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise StageError(f"{path}: line {n} is not '<sha256>  <file>': {line[:80]!r}")
        sums[name] = digest.lower()
    return sums


def verify_release(release_dir: Path) -> int:
    """Check every file listed in SHA256SUMS and that no unlisted file was added.

    Returns the number of files checked; raises StageError naming the first bad file.
    """
    root = Path(release_dir)
    sums_path = root / SUMS_NAME
    if not root.is_dir():
        raise StageError(f"{root} is not a release folder")
    if not sums_path.is_file():
        raise StageError(f"{sums_path} is missing; cannot verify {root}")
    sums = read_sha256sums(sums_path)
    for rel, digest in sorted(sums.items()):
        path = root / rel
        if not path.is_file():
            raise StageError(f"{path} is listed in {SUMS_NAME} but missing")
        if file_sha256(path) != digest:
            raise StageError(
                f"{path} does not match its SHA-256 in {SUMS_NAME} (the file was changed or damaged)"
            )
    extra = sorted(set(release_files(root)) - set(sums))
    if extra:
        raise StageError(f"{root / extra[0]} is not listed in {SUMS_NAME} (added after release)")
    return len(sums)
