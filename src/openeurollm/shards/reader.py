"""Read token shards (ours or any Megatron `.bin`/`.idx` pair) with np.memmap: the token stream
and the document boundaries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from openeurollm.errors import StageError
from openeurollm.io.fileio import file_sha256, read_json
from openeurollm.shards.mmidx import read_index


def read_offsets(path: Path) -> np.ndarray:
    """Document offsets of one shard (n_docs + 1 int64 values) from its .idx file."""
    return read_index(Path(path)).document_offsets()


class ShardFile:
    """One .bin/.idx pair: `tokens` is a read-only memmap, `offsets` the document boundaries.
    The token dtype comes from the index; `dtype`, when given, must agree with it."""

    def __init__(self, bin_path: Path, dtype: str | None = None) -> None:
        self.path = Path(bin_path)
        index = read_index(self.path.with_suffix(".idx"))
        if dtype is not None and np.dtype(dtype) != np.dtype(index.dtype):
            raise StageError(f"{self.path}: index says {index.dtype} tokens, meta.json {dtype}")
        dtype = self.dtype = index.dtype
        self.offsets = index.document_offsets()
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


def describe_folder(folder: Path) -> dict[str, Any]:
    """A meta.json-like description of a folder of Megatron `.bin`/`.idx` pairs made elsewhere
    (e.g. by Megatron's preprocess_data.py): one "language" per subfolder, or per file prefix
    at the top level. Vocabulary and eos are unknown there, so they stay None."""
    languages: dict[str, dict[str, Any]] = {}
    for idx in sorted(Path(folder).rglob("*.idx")):
        rel = idx.with_suffix(".bin").relative_to(folder)
        if not (folder / rel).is_file():
            raise StageError(f"{idx} has no {rel.name} beside it")
        lang = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        entry = languages.setdefault(lang, {"files": [], "tokens": 0, "docs": 0})
        offsets = read_offsets(idx)
        entry["files"].append(rel.as_posix())
        entry["tokens"] += int(offsets[-1])
        entry["docs"] += len(offsets) - 1
    if not languages:
        raise StageError(f"{folder} has neither meta.json nor any Megatron .bin/.idx pair")
    return {
        "dtype": None,
        "vocab_size": None,
        "eos_id": None,
        "languages": languages,
        "total_tokens": sum(v["tokens"] for v in languages.values()),
    }


class ShardSet:
    """Every shard of a run's `shards/` folder, as described by its meta.json, or every
    Megatron `.bin`/`.idx` pair of a folder without one (see `describe_folder`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        meta_path = self.folder / "meta.json"
        self.meta: dict[str, Any] = (
            read_json(meta_path) if meta_path.is_file() else describe_folder(self.folder)
        )
        self.dtype: str | None = self.meta["dtype"]
        self.vocab_size: int | None = self.meta["vocab_size"]
        self.eos_id: int | None = self.meta["eos_id"]

    def fingerprint(self) -> str:
        """sha256 of meta.json, or (without one) of every index file in order: what the
        training record cites as the data it read."""
        meta_path = self.folder / "meta.json"
        if meta_path.is_file():
            return file_sha256(meta_path)
        digest = hashlib.sha256()
        for lang in self.languages:
            for rel in self.meta["languages"][lang]["files"]:
                digest.update(rel.encode() + b"\0")
                digest.update(Path(self.folder / rel).with_suffix(".idx").read_bytes())
        return digest.hexdigest()

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
