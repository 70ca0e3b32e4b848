"""The provenance statement names every release file by digest and how the release was made;
the detached signature makes a file changed together with SHA256SUMS fail verification."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from openeurollm.errors import StageError
from openeurollm.release.checksums import read_sha256sums, verify_release, write_sha256sums
from openeurollm.release.provenance import PREDICATE_TYPE, STATEMENT_TYPE, write_provenance
from openeurollm.release.signing import sign_release, verify_signature

from .test_documents import entries


def throwaway_keys(folder: Path, name: str) -> tuple[Path, Path]:
    """A key pair made the way the guide tells providers to (openssl), for this test only."""
    private, public = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    if shutil.which("openssl"):
        subprocess.run(
            ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(private)], check=True
        )
        subprocess.run(
            ["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)], check=True
        )
    else:  # the same PEM files, from the library
        from cryptography.hazmat.primitives import serialization as ser
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        private.write_bytes(
            key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
        )
        public.write_bytes(
            key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
        )
    return private, public


def signed_release(tmp_path: Path) -> tuple[Path, Path, Path]:
    out = tmp_path / "release"
    (out / "sub").mkdir(parents=True)
    (out / "README.md").write_text("# model\n")
    (out / "sub" / "weights.bin").write_bytes(b"\x00\x01")
    write_provenance(out, entries(), {"run": {"name": "t"}})
    write_sha256sums(out)
    private, public = throwaway_keys(tmp_path, "provider")
    sign_release(out, private)
    return out, private, public


def test_provenance_statement_binds_files_to_inputs_and_stage_keys(tmp_path: Path) -> None:
    out, _, _ = signed_release(tmp_path)
    statement = json.loads((out / "provenance.intoto.json").read_text())
    assert statement["_type"] == STATEMENT_TYPE and statement["predicateType"] == PREDICATE_TYPE
    sums = read_sha256sums(out / "SHA256SUMS")
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {k: v for k, v in sums.items() if k != "provenance.intoto.json"}
    build = statement["predicate"]["buildDefinition"]
    assert build["externalParameters"]["recipe"] == {"run": {"name": "t"}}
    stages = build["internalParameters"]["stages"]
    assert stages["train"]["key"] == entries()["train"].get("key")
    assert set(stages) == set(entries())


def test_a_file_changed_with_its_checksum_fails_the_signature(tmp_path: Path) -> None:
    out, _, public = signed_release(tmp_path)
    verify_release(out)
    assert verify_signature(out, public).startswith("ed25519:")
    (out / "sub" / "weights.bin").write_bytes(b"\x00\x02")
    write_sha256sums(out)  # an attacker updates the checksums too
    verify_release(out)  # integrity alone cannot tell
    with pytest.raises(StageError, match="SHA256SUMS differs from the signed version"):
        verify_signature(out, public)


def test_another_key_does_not_verify(tmp_path: Path) -> None:
    out, _, _ = signed_release(tmp_path)
    _, other = throwaway_keys(tmp_path, "someone-else")
    with pytest.raises(StageError, match="does not match the public key"):
        verify_signature(out, other)


def test_cli_verify_checks_the_signature(tmp_path: Path) -> None:
    out, _, public = signed_release(tmp_path)

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "openeurollm.cli", "verify", str(out), "--public-key", str(public)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    ok = verify()
    assert ok.returncode == 0, ok.stderr
    assert "signed by ed25519:" in ok.stdout
    (out / "README.md").write_text("# changed\n")
    write_sha256sums(out)
    bad = verify()
    assert bad.returncode != 0 and "differs from the signed version" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_release_build_seals_and_signs_with_the_recipes_key(tmp_path: Path) -> None:
    from openeurollm.release.build import _seal

    from ..conftest import small_recipe

    private, public = throwaway_keys(tmp_path, "provider")
    recipe = small_recipe(tmp_path, f"release.signing_key={private}")
    out = tmp_path / "release"
    out.mkdir()
    (out / "README.md").write_text("# model\n")
    sums, signed = _seal(out, entries(), recipe.release, recipe)
    assert signed and sums.name == "SHA256SUMS"
    verify_release(out)
    verify_signature(out, public)
    statement = json.loads((out / "provenance.intoto.json").read_text())
    assert (
        statement["predicate"]["buildDefinition"]["externalParameters"]["recipe"]["run"]["name"]
        == "small"
    )
