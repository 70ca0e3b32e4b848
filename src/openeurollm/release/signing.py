"""A detached Ed25519 signature over the release's provenance statement and SHA256SUMS.

SHA256SUMS covers every file (the provenance statement too), so the signature covers the whole
release: changing a file and SHA256SUMS together still fails, because SHA256SUMS no longer
matches what was signed. Keys are the provider's own, made with
`openssl genpkey -algorithm ed25519 -out release-key.pem` and
`openssl pkey -in release-key.pem -pubout -out release-key.pub.pem`; this tool never makes one.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from openeurollm.errors import InputError, StageError
from openeurollm.io.fileio import atomic_open, file_sha256
from openeurollm.release.checksums import SIGNATURE_NAME, SUMS_NAME
from openeurollm.release.provenance import PROVENANCE_NAME

SIGNED_FILES = (PROVENANCE_NAME, SUMS_NAME)
FORMAT = "openeurollm-release-signature/v1"
MAKE_KEY = "make one with: openssl genpkey -algorithm ed25519 -out release-key.pem"


def _read_key(path: Path, private: bool) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    try:
        data = Path(path).read_bytes()
        key = (
            serialization.load_pem_private_key(data, password=None)
            if private
            else serialization.load_pem_public_key(data)
        )
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"cannot read the {'private' if private else 'public'} key {path}: {exc}"
        ) from None
    wanted = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    if not isinstance(key, wanted):
        raise InputError(f"{path} is not an Ed25519 key; {MAKE_KEY}")
    return key


def _fingerprint(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def _message(signed: dict[str, str]) -> bytes:
    return json.dumps({"format": FORMAT, "files": signed}, sort_keys=True).encode()


def sign_release(release_dir: Path, private_key: Path) -> Path:
    """Write SHA256SUMS.sig beside SHA256SUMS; returns its path."""
    root = Path(release_dir)
    key = _read_key(private_key, private=True)
    signed = {name: file_sha256(root / name) for name in SIGNED_FILES}
    body = {
        "format": FORMAT,
        "algorithm": "ed25519",
        "public_key": _fingerprint(key.public_key()),
        "files": signed,
        "signature": base64.b64encode(key.sign(_message(signed))).decode(),
    }
    path = root / SIGNATURE_NAME
    with atomic_open(path) as fh:
        json.dump(body, fh, indent=2, sort_keys=True, allow_nan=False)
        fh.write("\n")
    path.chmod(0o644)
    return path


def verify_signature(release_dir: Path, public_key: Path) -> str:
    """Check the signature with the provider's public key; returns its fingerprint. Raises
    StageError naming what does not match."""
    from cryptography.exceptions import InvalidSignature

    root = Path(release_dir)
    key = _read_key(public_key, private=False)
    path = root / SIGNATURE_NAME
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        signed, signature = dict(body["files"]), base64.b64decode(body["signature"])
    except FileNotFoundError:
        raise StageError(f"{path} is missing: the release is not signed") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StageError(f"{path} is not a signature file ({exc})") from None
    if sorted(signed) != sorted(SIGNED_FILES):
        raise StageError(f"{path} signs {sorted(signed)}, expected {list(SIGNED_FILES)}")
    try:
        key.verify(signature, _message(signed))
    except InvalidSignature:
        raise StageError(
            f"{path}: the signature does not match the public key {public_key}"
        ) from None
    for name, digest in signed.items():
        if not (root / name).is_file() or file_sha256(root / name) != digest:
            raise StageError(
                f"{root / name} differs from the signed version (the release was changed after signing)"
            )
    return _fingerprint(key)
