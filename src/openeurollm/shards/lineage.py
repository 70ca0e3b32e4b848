"""Lineage: which document every token range of every shard came from.

One row per document occurrence (the mix may repeat a document): the token range
`[start, end)` in `shard` (eos included), the document's id and URL, the hash of its
normalized content (`data.document.normalized_hash`) and, when curate masked PII in it, the
same hash of its text before masking (else ""), from which the release builds its
membership index ("was this text in the training data?").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from openeurollm.io.fileio import atomic_path
from openeurollm.io.parquet_rows import ParquetRowWriter, open_streaming, stream_batches

SCHEMA = pa.schema(
    [
        ("lang", pa.string()),
        ("shard", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("doc_id", pa.string()),
        ("url", pa.string()),
        ("hash", pa.string()),
        ("unmasked_hash", pa.string()),
    ]
)
_BATCH = 8192


class LineageWriter(ParquetRowWriter):
    """Buffered Parquet writer of lineage rows; the file appears only on a clean close."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, _BATCH)

    def add(self, **row: Any) -> None:
        self.add_row(row)


def merge_lineage(parts: Iterable[Path], out: Path) -> int:
    """Concatenate per-language lineage files into one (streamed); returns the row count."""
    rows = 0
    with atomic_path(Path(out)) as tmp:
        writer = pq.ParquetWriter(tmp, SCHEMA, compression="zstd")
        try:
            for part in parts:
                for batch in stream_batches(open_streaming(part), _BATCH):
                    writer.write_table(pa.Table.from_batches([batch], schema=SCHEMA))
                    rows += batch.num_rows
            if rows == 0:
                writer.write_table(SCHEMA.empty_table())
        finally:
            writer.close()
    return rows


def read_lineage(path: Path) -> pa.Table:
    return pq.read_table(path, schema=SCHEMA)
