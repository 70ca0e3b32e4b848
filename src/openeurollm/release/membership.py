"""Membership index: was a URL or a text part of the training data?

Every trained document contributes two keys, its URL and the hash of its normalized
content. A Bloom filter needs 9.6 bits per key at a 1% false-positive rate, i.e. 2.4 bytes
per document for two keys, over our budget of 2 bytes. We use a ribbon filter instead
(Dillinger & Walzer, "Ribbon filter: practically smaller than Bloom and Xor", 2021): a
static filter that stores r-bit fingerprints as the solution of a banded linear system
over GF(2). It answers "included" for every key it was built from (no false negatives),
and for other keys with probability 2^-r. With r = 7 (0.78%) and about 5% slack it costs
about 7.4 bits per key, 1.85 bytes per document.

The filter is two files: `membership.filter` (r bit planes, little-endian) and
`membership.json` (parameters, counts, false-positive rate, and how keys are made).

"No false negatives" holds for the keys as they were made, so both sides make them the
same way: URLs in their canonical spelling (`release.urlform.canonical_url`), texts as the
hash of their normalized form. A trained document whose PII was masked contributes the
hash of its pre-masking text too (lineage column `unmasked_hash`), so its original text
is found. `membership.json` is read as untrusted input: every field is checked before use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from openeurollm.data.document import normalized_hash
from openeurollm.errors import InputError
from openeurollm.io.fileio import atomic_open, write_json
from openeurollm.release.urlform import canonical_url

FILTER_NAME = "membership.filter"
META_NAME = "membership.json"
FORMAT = "openeurollm-ribbon-2"  # URL keys in canonical spelling
LEGACY_FORMAT = "openeurollm-ribbon-1"  # URL keys as written (only stripped)
MAX_META_BYTES = 1 << 20
WIDTH = 64  # coefficient band width w
_MASK_W = (1 << WIDTH) - 1


def url_key(url: str) -> str:
    return "url:" + canonical_url(url)


def legacy_url_key(url: str) -> str:
    """How indexes of format openeurollm-ribbon-1 made URL keys (still readable)."""
    return "url:" + url.strip()


def text_key(text: str) -> str:
    return "text:" + normalized_hash(text)


def hash_key(content_hash: str) -> str:
    """Key for an already computed normalized-content hash (as in shards/lineage.parquet)."""
    return "text:" + content_hash


def _hash(key: str, seed: int, slots: int, bits: int) -> tuple[int, int, int]:
    """(start row, w-bit coefficients with the lowest bit set, r-bit fingerprint)."""
    h = hashlib.blake2b(
        key.encode("utf-8", "surrogatepass"),  # an undecodable CLI argument must not raise
        digest_size=24,
        salt=seed.to_bytes(16, "little"),
    ).digest()
    start = int.from_bytes(h[0:8], "little") % (slots - WIDTH + 1)
    coeff = (int.from_bytes(h[8:16], "little") & _MASK_W) | 1
    finger = int.from_bytes(h[16:24], "little") & ((1 << bits) - 1)
    return start, coeff, finger


def _solve(keys: list[str], seed: int, slots: int, bits: int) -> list[int] | None:
    """Banded Gaussian elimination; the r bit planes of the solution, or None on a clash."""
    row_coeff = [0] * slots
    row_result = [0] * slots
    for key in keys:
        i, c, b = _hash(key, seed, slots, bits)
        while True:
            if row_coeff[i] == 0:
                row_coeff[i], row_result[i] = c, b
                break
            c ^= row_coeff[i]
            b ^= row_result[i]
            if c == 0:
                if b == 0:
                    break  # the same key twice: already satisfied
                return None  # two keys demand different values: try another seed or size
            shift = (c & -c).bit_length() - 1
            i += shift
            c >>= shift
    # Back substitution, last row first. For each plane keep the next w solution bits in
    # a window integer so a row costs one AND and a popcount per plane.
    planes = [0] * bits
    windows = [0] * bits
    for i in range(slots - 1, -1, -1):
        c = row_coeff[i] >> 1
        b = row_result[i]
        for p in range(bits):
            z = ((b >> p) & 1) ^ ((c & windows[p]).bit_count() & 1)
            windows[p] = ((windows[p] << 1) | z) & _MASK_W
            if z:
                planes[p] |= 1 << i
    return planes


@dataclass
class MembershipIndex:
    slots: int
    bits: int
    seed: int
    planes: list[bytes]
    documents: int
    keys: int
    url_form: str = "canonical"  # "as-written" for indexes of the legacy format

    @property
    def false_positive_rate(self) -> float:
        return 2.0**-self.bits

    @classmethod
    def build(
        cls, keys: Iterable[str], documents: int, bits: int = 7, slack: float = 0.05
    ) -> MembershipIndex:
        unique = sorted(set(keys))
        n = len(unique)
        slots = max(WIDTH, int(n * (1 + slack)) + 16)
        for attempt in range(64):
            planes = _solve(unique, attempt, slots, bits)
            if planes is not None:
                nbytes = (slots + 7) // 8
                return cls(
                    slots=slots,
                    bits=bits,
                    seed=attempt,
                    planes=[p.to_bytes(nbytes, "little") for p in planes],
                    documents=documents,
                    keys=n,
                )
            if attempt % 4 == 3:  # repeated clashes: give the system more room
                slots = int(slots * 1.03) + 1
        raise RuntimeError(f"membership filter: no solution for {n} keys")  # pragma: no cover

    def _lookup(self, key: str) -> bool:
        start, coeff, finger = _hash(key, self.seed, self.slots, self.bits)
        lo, hi = start // 8, (start + WIDTH) // 8 + 1
        shift = start % 8
        for p, plane in enumerate(self.planes):
            window = (int.from_bytes(plane[lo:hi], "little") >> shift) & _MASK_W
            if ((window & coeff).bit_count() & 1) != (finger >> p) & 1:
                return False
        return True

    def contains_url(self, url: str) -> bool:
        return self._lookup(url_key(url) if self.url_form == "canonical" else legacy_url_key(url))

    def contains_text(self, text: str) -> bool:
        return self._lookup(text_key(text))

    def contains_key(self, key: str) -> bool:
        return self._lookup(key)

    @property
    def size_bytes(self) -> int:
        return sum(len(p) for p in self.planes)

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        with atomic_open(folder / FILTER_NAME, "wb") as fh:
            for plane in self.planes:
                fh.write(plane)
        write_json(
            folder / META_NAME,
            {
                "format": FORMAT,
                "algorithm": "ribbon filter (standard, w=64), keys hashed with BLAKE2b",
                "keys": "url:<source URL in canonical spelling: no scheme, user or fragment, "
                "lower-case host, no default port, no trailing /, one percent-encoding>, "
                "text:<first 32 hex of SHA-256 of the normalized text (NFC, casefold, "
                "punctuation to spaces, spaces collapsed), as trained and, for PII-masked "
                "documents, before masking>",
                "slots": self.slots,
                "fingerprint_bits": self.bits,
                "seed": self.seed,
                "documents": self.documents,
                "distinct_keys": self.keys,
                "false_positive_rate": self.false_positive_rate,
                "size_bytes": self.size_bytes,
                "bytes_per_document": round(self.size_bytes / max(self.documents, 1), 4),
            },
        )

    @classmethod
    def load(cls, folder: Path) -> MembershipIndex:
        """Read an index; a damaged or crafted one is a one-line InputError, never a crash."""
        folder = Path(folder)
        meta_path, filt_path = folder / META_NAME, folder / FILTER_NAME
        if not meta_path.is_file() or not filt_path.is_file():
            raise InputError(f"{folder} has no membership index ({META_NAME}, {FILTER_NAME})")
        try:
            meta = _read_meta(meta_path)
            nbytes = (meta.slots + 7) // 8
            expected = nbytes * meta.fingerprint_bits
            size = filt_path.stat().st_size
            if size != expected:  # checked before reading: a huge file is never loaded
                raise InputError(f"{filt_path} has {size} bytes, expected {expected}")
            blob = filt_path.read_bytes()
        except OSError as exc:  # unreadable (permissions, I/O): the command's answer is no answer
            raise InputError(f"cannot read the membership index in {folder}: {exc}") from None
        return cls(
            slots=meta.slots,
            bits=meta.fingerprint_bits,
            seed=meta.seed,
            planes=[blob[i * nbytes : (i + 1) * nbytes] for i in range(meta.fingerprint_bits)],
            documents=meta.documents,
            keys=meta.distinct_keys,
            url_form="canonical" if meta.format == FORMAT else "as-written",
        )


class _Meta(BaseModel):
    """The fields of membership.json the lookup uses, with the bounds a real index has."""

    model_config = ConfigDict(extra="ignore", strict=True)
    format: Literal["openeurollm-ribbon-2", "openeurollm-ribbon-1"]
    slots: int = Field(ge=WIDTH, le=1 << 40)
    fingerprint_bits: int = Field(ge=1, le=32)
    seed: int = Field(ge=0, lt=1 << 64)
    documents: int = Field(ge=0, le=1 << 48)
    distinct_keys: int = Field(ge=0, le=1 << 48)


def _read_meta(path: Path) -> _Meta:
    damaged = "(the index is damaged or was not written by openeurollm)"
    if path.stat().st_size > MAX_META_BYTES:
        raise InputError(f"{path} is larger than {MAX_META_BYTES} bytes {damaged}")
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"{path} is not valid JSON: {str(exc)[:120]} {damaged}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path} is not a JSON object {damaged}")
    try:
        return _Meta.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(f"{path}: field {field!r}: {first['msg'][:120]} {damaged}") from None
