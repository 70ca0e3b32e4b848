"""SHA256SUMS for a release folder, and its verification.

The file uses the `sha256sum` format ("<hex>  <path>"), so `sha256sum -c SHA256SUMS`
works without our tool. It is written last: it covers every other file in the folder.

What `verify` proves: every file in the folder (but SHA256SUMS.sig, the signature over
SHA256SUMS, and scratch files) is a regular file inside it, is listed exactly once in
SHA256SUMS, and has the listed SHA-256; the model card's weights SHA-256 agrees with the
weights. That is integrity against the sums in the folder (damage, a
partial download, a file changed or added on its own). It is not authenticity: whoever
can change a file can change SHA256SUMS and the card with it. SHA256SUMS is read as
untrusted input: names with `..`, absolute names, duplicates and symbolic links are refused,
never followed.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from openeurollm.errors import StageError
from openeurollm.io.fileio import atomic_open, file_sha256, is_scratch

SUMS_NAME = "SHA256SUMS"
SIGNATURE_NAME = "SHA256SUMS.sig"  # written after SHA256SUMS: it signs it (release/signing.py)
CARD_NAME = "README.md"
MAX_SUMS_BYTES = 16 << 20  # a release lists hundreds of files, not millions
_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
_CARD_SHA = re.compile(r"^\| Weights SHA-256 \| (.*) \|$", re.MULTILINE)
_CARD_ENTRY = re.compile(r"([^\s:;{}'\",]+)\W+([0-9a-f]{64})")


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


def _bad_name(name: str) -> str | None:
    """Why a listed name may not be verified, or None: only plain relative paths inside."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or name.startswith("\\") or re.match(r"[A-Za-z]:", name):
        return "is an absolute path"
    if ".." in pure.parts:
        return "leaves the release folder (..)"
    if pure.as_posix() != name or "\\" in name or name in (".", SUMS_NAME, SIGNATURE_NAME):
        return "is not a plain relative path"
    return None


def read_sha256sums(path: Path) -> dict[str, str]:
    """{name: sha256} of a SHA256SUMS file; StageError for any line that is not a safe entry."""
    path = Path(path)
    if path.stat().st_size > MAX_SUMS_BYTES:
        raise StageError(f"{path} is larger than {MAX_SUMS_BYTES} bytes; not a release's sums")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StageError(f"{path} is not UTF-8 text (byte {exc.start}); not a SHA256SUMS") from None
    except OSError as exc:
        raise StageError(f"cannot read {path}: {exc.strerror}") from None
    sums: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise StageError(f"{path}: line {n} is not '<sha256>  <file>': {line[:80]!r}")
        digest, name = match.groups()
        why = _bad_name(name)
        if why:
            raise StageError(f"{path}: line {n}: {name[:80]!r} {why}; refusing to verify")
        if name in sums:
            raise StageError(f"{path}: line {n}: {name[:80]!r} is listed twice")
        sums[name] = digest.lower()
    return sums


def _symlink_on_the_way(root: Path, rel: str) -> str | None:
    """The first component of root/rel that is a symbolic link, or None."""
    path = root
    for part in PurePosixPath(rel).parts:
        path = path / part
        if path.is_symlink():
            return path.relative_to(root).as_posix()
    return None


def _folder_entries(root: Path) -> tuple[list[str], list[str]]:
    """(files, symbolic links) under root, POSIX-relative, without following any link."""
    files, links = [], []
    for here, dirs, names in os.walk(root, followlinks=False):
        for name in [*names, *dirs]:
            path = Path(here) / name
            rel = path.relative_to(root)
            if is_scratch(rel):
                continue
            if path.is_symlink():
                links.append(rel.as_posix())
            elif name in names:
                files.append(rel.as_posix())
    return sorted(files), sorted(links)


@dataclass
class VerifyReport:
    """What verify found; `problems` is empty when the folder matches its SHA256SUMS."""

    root: Path
    checked: list[str] = field(default_factory=list)  # files whose SHA-256 matched
    problems: list[str] = field(default_factory=list)  # one line each
    card: str = f"no model card ({CARD_NAME}) to cross-check"

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_listed(root: Path, sums: dict[str, str], report: VerifyReport) -> None:
    for rel, digest in sorted(sums.items()):
        path = root / rel
        link = _symlink_on_the_way(root, rel)
        if link is not None:
            report.problems.append(f"{root / link} is a symbolic link; a release holds files only")
        elif not path.exists():
            report.problems.append(f"{path} is listed in {SUMS_NAME} but missing")
        elif not stat.S_ISREG(path.lstat().st_mode):
            report.problems.append(f"{path} is not a regular file")
        elif _sha256_or_none(path) != digest:
            report.problems.append(
                f"{path} does not match its SHA-256 in {SUMS_NAME} (the file was changed, "
                "damaged or cannot be read)"
            )
        else:
            report.checked.append(rel)


def _sha256_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:  # unreadable: reported as not matching, never a traceback
        return None


def _check_card(root: Path, sums: dict[str, str], report: VerifyReport) -> None:
    """The card states the weights' SHA-256 (one file: the hex; shards: name and hex each).

    A weights file replaced together with SHA256SUMS still disagrees with the card."""
    if CARD_NAME not in report.checked:
        return  # missing or changed: already a problem
    text = (root / CARD_NAME).read_text(encoding="utf-8", errors="replace")
    found = _CARD_SHA.search(text)
    stated = found.group(1) if found else ""
    weights = sorted(n for n in sums if n.endswith(".safetensors") and "/" not in n)
    hexes = re.findall(r"[0-9a-f]{64}", stated)
    if not weights or not hexes:
        report.card = "the model card records no weights SHA-256"
        return
    named = dict(_CARD_ENTRY.findall(stated))
    if not named and len(weights) == 1:
        named = {weights[0]: hexes[0]}
    differ = [name for name in weights if named.get(name) != sums[name]]
    for name in differ:
        report.problems.append(
            f"{root / CARD_NAME} states a SHA-256 for {name} that differs from the file "
            f"({str(named.get(name, 'none'))[:16]}... vs {sums[name][:16]}...)"
        )
    report.card = f"the model card's weights SHA-256 {'differs' if differ else 'matches'}"


def verify_release(release_dir: Path) -> VerifyReport:
    """Check a release folder against its SHA256SUMS; every problem found, one line each.

    Raises StageError only when there is nothing to verify against (no folder, no usable
    SHA256SUMS); a file that does not match is a problem in the returned report.
    """
    root = Path(release_dir)
    if not root.is_dir():
        raise StageError(f"{root} is not a release folder")
    root = root.resolve()  # the folder may be reached through a link; nothing inside may
    sums_path = root / SUMS_NAME
    if sums_path.is_symlink() or not sums_path.is_file():
        raise StageError(f"{sums_path} is missing or not a regular file; cannot verify {root}")
    sums = read_sha256sums(sums_path)
    report = VerifyReport(root)
    _check_listed(root, sums, report)
    files, links = _folder_entries(root)
    for link in links:
        report.problems.append(f"{root / link} is a symbolic link; a release holds files only")
    for rel in sorted(set(files) - set(sums) - {SUMS_NAME, SIGNATURE_NAME}):
        report.problems.append(f"{root / rel} is not listed in {SUMS_NAME} (added after release)")
    _check_card(root, sums, report)
    report.problems = list(dict.fromkeys(report.problems))  # a link on several listed paths
    return report
