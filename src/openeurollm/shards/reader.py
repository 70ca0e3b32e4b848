"""Read token shards with np.memmap: the token stream and the document boundaries."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from openeurollm.errors import StageError
from openeurollm.io.fileio import read_json
from openeurollm.shards.writer import IDX_MAGIC

_HEADER = len(IDX_MAGIC) + 8


def read_offsets(path: Path) -> np.ndarray:
    """Document offsets of one shard (n_docs + 1 int64 values) from its .idx file."""
    data = Path(path).read_bytes()
    if len(data) < _HEADER or data[: len(IDX_MAGIC)] != IDX_MAGIC:
        raise StageError(f"{path} is not a shard index (bad magic); rerun with --force shards")
    (n_docs,) = struct.unpack("<Q", data[len(IDX_MAGIC) : _HEADER])
    if len(data) != _HEADER + 8 * (n_docs + 1):
        raise StageError(f"{path} is truncated; rerun with --force shards")
    return np.frombuffer(data, dtype="<i8", offset=_HEADER).astype(np.int64)


class ShardFile:
    """One .bin/.idx pair: `tokens` is a read-only memmap, `offsets` the document boundaries."""

    def __init__(self, bin_path: Path, dtype: str) -> None:
        self.path = Path(bin_path)
        self.offsets = read_offsets(self.path.with_suffix(".idx"))
        n_tokens = int(self.offsets[-1])
        itemsize = np.dtype(dtype).itemsize
        if self.path.stat().st_size != n_tokens * itemsize:
            raise StageError(
                f"{self.path}: {self.path.stat().st_size} bytes, index says {n_tokens} tokens "
                f"of {itemsize} bytes; rerun with --force shards"
            )
        le = np.dtype(dtype).newbyteorder("<")
        self.tokens: np.ndarray = (
            np.memmap(self.path, dtype=le, mode="r", shape=(n_tokens,))
            if n_tokens
            else np.zeros(0, dtype=le)
        )

    @property
    def num_docs(self) -> int:
        return len(self.offsets) - 1

    @property
    def num_tokens(self) -> int:
        return int(self.offsets[-1])

    def document(self, i: int) -> np.ndarray:
        """Token ids of document i (its trailing eos included)."""
        return self.tokens[self.offsets[i] : self.offsets[i + 1]]

    def documents(self) -> Iterator[np.ndarray]:
        for i in range(self.num_docs):
            yield self.document(i)


class ShardSet:
    """Every shard of a run's `shards/` folder, as described by its meta.json."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.meta: dict[str, Any] = read_json(self.folder / "meta.json")
        self.dtype: str = self.meta["dtype"]
        self.vocab_size: int = self.meta["vocab_size"]
        self.eos_id: int = self.meta["eos_id"]

    @property
    def languages(self) -> list[str]:
        return sorted(self.meta["languages"])

    @property
    def total_tokens(self) -> int:
        return int(self.meta["total_tokens"])

    def files(self, lang: str | None = None) -> list[ShardFile]:
        langs = [lang] if lang is not None else self.languages
        return [
            ShardFile(self.folder / rel, self.dtype)
            for name in langs
            for rel in self.meta["languages"][name]["files"]
        ]

    def token_stream(self, lang: str | None = None) -> Iterator[np.ndarray]:
        """The tokens of every shard (of one language, or all in language order), file by file."""
        for shard in self.files(lang):
            yield shard.tokens

    def documents(self, lang: str | None = None) -> Iterator[np.ndarray]:
        for shard in self.files(lang):
            yield from shard.documents()
