"""Write token shards (.bin + Megatron .idx, format in the package docstring), one language at a
time."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from openeurollm.io.fileio import atomic_path, file_sha256
from openeurollm.shards.mmidx import DTYPE_CODES, write_index

UINT16_LIMIT = 1 << 16


def choose_dtype(vocab_size: int, requested: str = "auto") -> str:
    """uint16 when every id fits (vocab <= 65,536), else int32 (Megatron's index names no
    uint32; int32 holds any real vocabulary); an explicit request is checked."""
    needed = "uint16" if vocab_size <= UINT16_LIMIT else "int32"
    if requested == "auto":
        return needed
    if requested == "uint16" and needed == "int32":
        raise ValueError(f"a vocabulary of {vocab_size} ids does not fit uint16")
    if requested not in ("uint16", "int32"):
        raise ValueError(f"unknown shard dtype {requested!r} (allowed: auto, uint16, int32)")
    return requested


@dataclass
class ShardInfo:
    path: str  # relative to the shards folder
    tokens: int
    docs: int
    sha256: str


@dataclass
class _Open:
    rel: str
    bin_path: Path
    atomic: contextlib.AbstractContextManager[Path]
    fh: BinaryIO
    offsets: list[int] = field(default_factory=lambda: [0])


class ShardWriter:
    """Appends documents to `<root>/<lang>/NNNNN.bin`, starting a new file past `max_tokens`.

    A document never spans two files. Files appear (atomically) only when complete, so a
    killed writer leaves no half-written shard behind.
    """

    def __init__(self, root: Path, lang: str, dtype: str, max_tokens: int) -> None:
        self.root = Path(root)
        self.lang = lang
        if dtype not in DTYPE_CODES:
            raise ValueError(f"shard dtype {dtype!r} has no code in Megatron's index format")
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.max_tokens = max_tokens
        self.shards: list[ShardInfo] = []
        self._cur: _Open | None = None

    def _open(self) -> _Open:
        rel = f"{self.lang}/{len(self.shards):05d}.bin"
        bin_path = self.root / rel
        atomic = atomic_path(bin_path)
        tmp = atomic.__enter__()
        return _Open(rel=rel, bin_path=bin_path, atomic=atomic, fh=open(tmp, "wb"))

    def add(self, ids: list[int] | np.ndarray) -> tuple[str, int, int]:
        """Append one document's tokens (eos already included); returns (shard, start, end)."""
        cur = self._cur
        if cur is not None and cur.offsets[-1] > 0 and cur.offsets[-1] + len(ids) > self.max_tokens:
            self._close()
            cur = None
        if cur is None:
            cur = self._cur = self._open()
        cur.fh.write(np.asarray(ids, dtype=self.dtype).tobytes())
        start = cur.offsets[-1]
        cur.offsets.append(start + len(ids))
        return cur.rel, start, start + len(ids)

    def _close(self, exc: BaseException | None = None) -> None:
        cur, self._cur = self._cur, None
        if cur is None:
            return
        cur.fh.close()
        if exc is not None:
            cur.atomic.__exit__(type(exc), exc, None)
            return
        cur.atomic.__exit__(None, None, None)
        lengths = np.diff(np.asarray(cur.offsets, dtype=np.int64))
        write_index(cur.bin_path.with_suffix(".idx"), self.dtype.name, lengths)
        self.shards.append(
            ShardInfo(
                path=cur.rel,
                tokens=cur.offsets[-1],
                docs=len(cur.offsets) - 1,
                sha256=file_sha256(cur.bin_path),
            )
        )

    def close(self) -> list[ShardInfo]:
        self._close()
        return self.shards

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None:
            self.close()
        else:
            self._close(exc)
