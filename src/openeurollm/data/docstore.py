"""Document shards on disk: Parquet with zstd, written atomically, read in streaming batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from openeurollm.data.document import Document
from openeurollm.errors import StageError
from openeurollm.io.parquet_rows import ParquetRowWriter, open_streaming, stream_batches

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("lang", pa.string()),
        ("lang_score", pa.float32()),
        ("source", pa.string()),
        ("meta", pa.string()),  # JSON: keeps the schema fixed whatever metadata sources carry
    ]
)
_BATCH = 1024


class DocumentWriter(ParquetRowWriter):
    """Incremental writer for one shard; the file appears (atomically) only on a clean close."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, _BATCH)

    def write(self, doc: Document) -> None:
        self.add_row(doc.to_row())


def write_documents(path: Path, docs: Iterable[Document]) -> int:
    """Write documents to one Parquet file atomically; returns how many were written."""
    with DocumentWriter(path) as writer:
        for doc in docs:
            writer.write(doc)
    return writer.count


def read_documents(path: Path) -> Iterator[Document]:
    """Stream documents from one Parquet file; a damaged file stops with its name."""
    try:
        for batch in stream_batches(open_streaming(path), _BATCH):
            for row in batch.to_pylist():
                yield Document.from_row(row)
    except (OSError, pa.ArrowException) as exc:
        raise StageError(
            f"{path} is damaged or truncated ({exc}); rerun with --force for the stage that wrote it"
        ) from None


def shard_paths(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.parquet") if not p.name.startswith(".tmp-"))


def read_folder(folder: Path) -> Iterator[Document]:
    for path in shard_paths(folder):
        yield from read_documents(path)
