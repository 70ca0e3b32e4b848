"""Document shards on disk: Parquet with zstd, written atomically, read in streaming batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from openeurollm.data.document import Document
from openeurollm.errors import StageError
from openeurollm.pipeline.fileio import atomic_path

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


class DocumentWriter:
    """Incremental writer for one shard; the file appears (atomically) only on a clean close."""

    def __init__(self, path: Path) -> None:
        self._atomic = atomic_path(Path(path))
        self._tmp = self._atomic.__enter__()
        self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression="zstd")
        self._batch: list[dict] = []
        self.count = 0

    def write(self, doc: Document) -> None:
        self._batch.append(doc.to_row())
        self.count += 1
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        self._writer.write_table(pa.Table.from_pylist(self._batch, schema=SCHEMA))
        self._batch = []

    def __enter__(self) -> DocumentWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        try:
            if exc_type is None and (self._batch or self.count == 0):
                self._flush()
            self._writer.close()
        finally:
            if exc_type is None:
                self._atomic.__exit__(None, None, None)
            else:
                self._atomic.__exit__(exc_type, exc, tb)  # type: ignore[arg-type]


def write_documents(path: Path, docs: Iterable[Document]) -> int:
    """Write documents to one Parquet file atomically; returns how many were written."""
    with DocumentWriter(path) as writer:
        for doc in docs:
            writer.write(doc)
    return writer.count


def read_documents(path: Path) -> Iterator[Document]:
    """Stream documents from one Parquet file; a damaged file stops with its name."""
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=_BATCH):
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
