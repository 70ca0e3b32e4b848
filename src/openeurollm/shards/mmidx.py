"""Megatron-Core's indexed-dataset index (`.idx`), written and read without megatron-core.

Layout (all little-endian), as `megatron.core.datasets.indexed_dataset` reads it:

    9 bytes  magic  b"MMIDIDX\\x00\\x00"
    uint64   version (1)
    uint8    dtype code of the .bin tokens (uint16 = 8, int32 = 4, ...)
    uint64   sequence_count S
    uint64   document_count D (entries of document_indices: documents + 1)
    int32    sequence_lengths[S]   tokens per sequence
    int64    sequence_pointers[S]  byte offset of each sequence in the .bin file
    int64    document_indices[D]   sequence index where each document starts, then S

We write one sequence per document, as Megatron's `preprocess_data.py` does without
sentence splitting; indexes made by Megatron with several sequences per document are read too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openeurollm.errors import StageError
from openeurollm.io.fileio import atomic_path

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
# Megatron's DType enum; the .bin dtypes it can name (uint32 is not one of them).
DTYPE_CODES = {
    "uint8": 1,
    "int8": 2,
    "int16": 3,
    "int32": 4,
    "int64": 5,
    "float64": 6,
    "float32": 7,
    "uint16": 8,
}
_CODE_DTYPES = {code: name for name, code in DTYPE_CODES.items()}
_TOKEN_DTYPES = ("uint8", "uint16", "int16", "int32", "int64")
_FIXED = struct.Struct("<9sQBQQ")


@dataclass(frozen=True)
class MegatronIndex:
    dtype: str
    sequence_lengths: np.ndarray  # int32, tokens per sequence
    sequence_pointers: np.ndarray  # int64, byte offsets into the .bin file
    document_indices: np.ndarray  # int64, sequence index where each document starts, then S

    def document_offsets(self) -> np.ndarray:
        """Token offsets of the documents (documents + 1 values, the last = all tokens)."""
        starts = np.zeros(len(self.sequence_lengths) + 1, dtype=np.int64)
        np.cumsum(self.sequence_lengths, dtype=np.int64, out=starts[1:])
        return starts[self.document_indices]


def write_index(path: Path, dtype: str, document_lengths: np.ndarray) -> None:
    """Write an .idx file atomically: one sequence per document of `document_lengths` tokens."""
    lengths = np.asarray(document_lengths, dtype=np.int64)
    if len(lengths) and int(lengths.max()) > np.iinfo(np.int32).max:
        raise ValueError("a document of more than 2**31 tokens does not fit the Megatron index")
    itemsize = np.dtype(dtype).itemsize
    pointers = np.zeros(len(lengths), dtype="<i8")
    np.cumsum(lengths[:-1] * itemsize, out=pointers[1:])
    doc_indices = np.arange(len(lengths) + 1, dtype="<i8")
    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as fh:
        fh.write(_FIXED.pack(MAGIC, VERSION, DTYPE_CODES[dtype], len(lengths), len(doc_indices)))
        fh.write(lengths.astype("<i4").tobytes())
        fh.write(pointers.tobytes())
        fh.write(doc_indices.tobytes())


def read_index(path: Path) -> MegatronIndex:
    """Read and check an .idx file; a damaged or foreign one is a one-line StageError."""
    data = Path(path).read_bytes()
    if len(data) < _FIXED.size or data[: len(MAGIC)] != MAGIC:
        raise StageError(f"{path} is not a Megatron index (bad magic); rerun with --force shards")
    _, version, code, n_seq, n_doc = _FIXED.unpack_from(data)
    if version != VERSION:
        raise StageError(f"{path}: index version {version}, only version {VERSION} is known")
    dtype = _CODE_DTYPES.get(code)
    if dtype not in _TOKEN_DTYPES:
        raise StageError(f"{path}: dtype code {code} is not an integer token type")
    if len(data) != _FIXED.size + 4 * n_seq + 8 * n_seq + 8 * n_doc:
        raise StageError(f"{path} is truncated; rerun with --force shards")
    offset = _FIXED.size
    lengths = np.frombuffer(data, dtype="<i4", count=n_seq, offset=offset)
    pointers = np.frombuffer(data, dtype="<i8", count=n_seq, offset=offset + 4 * n_seq)
    docs = np.frombuffer(data, dtype="<i8", count=n_doc, offset=offset + 12 * n_seq)
    index = MegatronIndex(
        dtype, lengths.astype(np.int32), pointers.astype(np.int64), docs.astype(np.int64)
    )
    _check_consistent(path, index)
    return index


def _check_consistent(path: Path, index: MegatronIndex) -> None:
    """Pointers must tile the .bin file in order and document indices must cover every sequence:
    the reader slices by token offsets, so a gap or overlap would silently shift documents."""
    lengths, docs = index.sequence_lengths, index.document_indices
    itemsize = np.dtype(index.dtype).itemsize
    expected = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1].astype(np.int64) * itemsize, out=expected[1:])
    if (lengths < 0).any() or not np.array_equal(index.sequence_pointers, expected):
        raise StageError(f"{path}: sequence pointers do not follow the sequence lengths")
    if len(docs) == 0 or docs[0] != 0 or docs[-1] != len(lengths) or (np.diff(docs) < 0).any():
        raise StageError(f"{path}: document indices do not cover the sequences in order")
