"""Parquet reader: row batches streamed from the file, never the whole table in memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from openeurollm.data.document import Document
from openeurollm.data.readers import READERS, Quarantined
from openeurollm.data.readers.jsonl import document_from_record
from openeurollm.io.parquet_rows import open_streaming, stream_batches

if TYPE_CHECKING:
    from openeurollm.config import InputSpec

_BATCH = 512


def _jsonable(value: object) -> object:
    """Parquet cells may hold dates, bytes or decimals; metadata must stay JSON."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


@READERS.register("parquet")
def read_parquet(path: Path, spec: InputSpec) -> Iterator[Document | Quarantined]:
    row = 0
    try:
        pf = open_streaming(path)
        if spec.text_field not in pf.schema_arrow.names:
            yield Quarantined(
                str(path),
                f"no column {spec.text_field!r} (columns: {', '.join(pf.schema_arrow.names)})",
            )
            return
        for batch in stream_batches(pf, _BATCH):
            for record in batch.to_pylist():
                row += 1
                yield _document(record, spec, f"{path}:row{row}")
    # A damaged file can fail in the decoder too: bytes that are not UTF-8 where the schema
    # says string, or sizes that make no sense.
    except (OSError, pa.ArrowException, UnicodeDecodeError, ValueError, IndexError) as exc:
        yield Quarantined(
            f"{path}:row{row + 1}",
            f"unreadable from here on: {type(exc).__name__}: {exc}",
            lost=max(1, _rows_in(path) - row),
        )


def _document(record: dict, spec: InputSpec, where: str) -> Document | Quarantined:
    """One row; a cell too deep or odd to turn into JSON costs this row only."""
    try:
        record = {k: _jsonable(v) for k, v in record.items() if v is not None}
    except (ValueError, RecursionError) as exc:
        return Quarantined(where, f"unconvertible cell: {type(exc).__name__}")
    return document_from_record(record, spec, where)


def _rows_in(path: Path) -> int:
    """Rows the file's footer declares (0 when the footer itself is unreadable)."""
    try:
        return open_streaming(path).metadata.num_rows
    except (OSError, pa.ArrowException, ValueError):
        return 0
