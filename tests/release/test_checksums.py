"""SHA256SUMS covers every release file; verify names the file that changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from openeurollm.errors import StageError
from openeurollm.release.checksums import read_sha256sums, write_sha256sums
from openeurollm.release.cli_commands import verify_release


@pytest.fixture
def release(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "README.md").write_text("card\n")
    (tmp_path / "model.safetensors").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "sub" / "x.json").write_text("{}\n")
    (tmp_path / ".stage-key").write_text("bookkeeping, not published")
    write_sha256sums(tmp_path)
    return tmp_path


def test_sums_cover_every_file_and_verify(release: Path) -> None:
    sums = read_sha256sums(release / "SHA256SUMS")
    assert sorted(sums) == ["README.md", "model.safetensors", "sub/x.json"]
    verify_release(release)
    # the standard tool agrees with the format
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=release, capture_output=True)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("name", ["README.md", "model.safetensors", "sub/x.json"])
def test_one_changed_byte_fails_naming_the_file(release: Path, name: str) -> None:
    path = release / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(StageError, match=rf"{name}.*does not match its SHA-256"):
        verify_release(release)


def test_added_and_missing_files(release: Path) -> None:
    (release / "extra.txt").write_text("late")
    with pytest.raises(StageError, match=r"extra\.txt is not listed"):
        verify_release(release)
    (release / "extra.txt").unlink()
    (release / "README.md").unlink()
    with pytest.raises(StageError, match=r"README\.md is listed in SHA256SUMS but missing"):
        verify_release(release)
    (release / "SHA256SUMS").unlink()
    with pytest.raises(StageError, match="SHA256SUMS is missing"):
        verify_release(release)
