"""SHA256SUMS covers every release file; verify names the file that changed and refuses
entries and files a hostile release could use to pass (paths outside, duplicates, links)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from openeurollm.errors import StageError
from openeurollm.io.fileio import file_sha256
from openeurollm.release.checksums import read_sha256sums, write_sha256sums
from openeurollm.release.checksums import verify_release as check_folder
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


# --- hostile releases (issue 18, item 13) ---------------------------------------------------


def _rewrite_sums(release: Path, lines: list[str]) -> None:
    (release / "SHA256SUMS").write_text("".join(line + "\n" for line in lines))


def _entry(digest_of: Path, name: str) -> str:
    return f"{file_sha256(digest_of)}  {name}"


def test_entries_outside_the_folder_are_refused(release: Path, tmp_path_factory) -> None:
    """Attack: SHA256SUMS lists ../x and /etc/... so verify hashes files outside the release."""
    outside = tmp_path_factory.mktemp("outside") / "x"
    outside.write_text("outside")
    sums = (release / "SHA256SUMS").read_text().splitlines()
    for name in ("../outside/x", str(outside), "sub/../README.md", "./README.md", "a//b"):
        _rewrite_sums(release, [*sums, _entry(outside, name)])
        with pytest.raises(StageError, match="refusing to verify") as err:
            verify_release(release)
        assert "\n" not in str(err.value)


def test_duplicate_entries_are_refused_even_when_the_first_is_wrong(release: Path) -> None:
    sums = (release / "SHA256SUMS").read_text().splitlines()
    wrong = "0" * 64 + "  README.md"
    _rewrite_sums(release, [wrong, *sums])
    with pytest.raises(StageError, match="listed twice"):
        verify_release(release)


@pytest.mark.parametrize("where", ["file", "folder"])
def test_symbolic_links_are_refused(release: Path, tmp_path_factory, where: str) -> None:
    """Attack: a release file replaced by a link to an outside copy with the same bytes."""
    outside = tmp_path_factory.mktemp("outside")
    if where == "file":
        (outside / "x.json").write_text("{}\n")
        (release / "sub" / "x.json").unlink()
        (release / "sub" / "x.json").symlink_to(outside / "x.json")
    else:
        (outside / "x.json").write_text("{}\n")
        (release / "sub" / "x.json").unlink()
        (release / "sub").rmdir()
        (release / "sub").symlink_to(outside)
    with pytest.raises(StageError, match=r"sub.* is a symbolic link"):
        verify_release(release)


def test_unlisted_links_and_files_are_all_reported(release: Path) -> None:
    (release / "extra.py").write_text("import os")
    (release / "sub" / "late.json").write_text("{}")
    (release / "link").symlink_to("/etc/hostname")
    report = check_folder(release)
    assert not report.ok
    joined = "\n".join(report.problems)
    for name in ("extra.py is not listed", "late.json is not listed", "link is a symbolic link"):
        assert name in joined, joined
    assert sorted(report.checked) == ["README.md", "model.safetensors", "sub/x.json"]


@pytest.mark.parametrize(
    "content", [b"\x89PNG\r\n\x1a\n\x00\x00binary", b"\xff" * 100, b"not a sums line\n"]
)
def test_unreadable_sums_file_is_a_one_line_error(release: Path, content: bytes) -> None:
    (release / "SHA256SUMS").write_bytes(content)
    with pytest.raises(StageError) as err:
        verify_release(release)
    assert "\n" not in str(err.value) and "SHA256SUMS" in str(err.value)


def _card(release: Path, stated: str) -> None:
    (release / "README.md").write_text(
        f"# card\n\n| | |\n|---|---|\n| Weights SHA-256 | {stated} |\n"
    )
    write_sha256sums(release)


def test_weights_changed_together_with_the_sums_disagree_with_the_card(release: Path) -> None:
    """Attack: replace the weights and rewrite SHA256SUMS; the card still names the real ones."""
    weights = release / "model.safetensors"
    _card(release, file_sha256(weights))
    assert "matches" in verify_release(release).card
    weights.write_bytes(b"other weights")
    write_sha256sums(release)
    with pytest.raises(StageError, match=r"README\.md states a SHA-256 for model\.safetensors"):
        verify_release(release)


def test_sharded_weights_are_each_checked_against_the_card(release: Path) -> None:
    (release / "model.safetensors").rename(release / "model-00001-of-00002.safetensors")
    (release / "model-00002-of-00002.safetensors").write_bytes(b"shard two")
    digests = {p.name: file_sha256(p) for p in sorted(release.glob("*.safetensors"))}
    _card(release, str(digests))  # how the card prints the mapping
    assert "matches" in verify_release(release).card
    (release / "model-00002-of-00002.safetensors").write_bytes(b"shard 2, changed")
    write_sha256sums(release)
    with pytest.raises(StageError, match="model-00002-of-00002"):
        verify_release(release)


def test_cli_verify_states_what_it_proves(release: Path, capsys) -> None:
    from openeurollm.cli import main

    assert main(["verify", str(release)]) == 0
    out = capsys.readouterr().out
    assert "integrity" in out and "not who made the release" in out
    (release / "link").symlink_to("README.md")
    assert main(["verify", str(release)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: verify failed") and err.count("\n") == 1


def test_the_signature_beside_the_sums_is_not_an_unlisted_file(release: Path) -> None:
    """SHA256SUMS.sig is written after SHA256SUMS (it signs it) and checked by --public-key."""
    (release / "SHA256SUMS.sig").write_text("{}")
    assert check_folder(release).ok
    assert "SHA256SUMS.sig" not in read_sha256sums(write_sha256sums(release))


def test_a_library_temporary_left_by_a_kill_is_not_published(tmp_path: Path) -> None:
    """tokenizers and safetensors save through Rust's tempfile crate (`.tmpXXXXXX`); a kill
    mid-save leaves one in the release folder, and SHA256SUMS must not list it."""
    from openeurollm.release.checksums import release_files

    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / ".tmpODYBFZ").write_bytes(b"half a tokenizer")
    (tmp_path / ".tmp-README.md.1a2b").write_text("half a card")
    assert release_files(tmp_path) == ["model.safetensors"]
