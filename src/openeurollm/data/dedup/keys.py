"""Per-shard dedup keys: what curate's pass 1 writes beside each shard's survivors (id,
language, size, exact hash and LSH band hashes, one row per document, in document order)
and every dedup pass reads instead of the documents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from openeurollm.config import DedupConfig
from openeurollm.data.dedup.minhash import MinHasher, band_hashes
from openeurollm.data.document import Document, normalized_hash
from openeurollm.data.text import words
from openeurollm.io.fileio import atomic_path

_BATCH = 512  # documents per MinHash call: large enough to vectorize, small in memory
FIELDS = [
    ("id", pa.string()),
    ("lang", pa.string()),
    ("bytes", pa.int64()),
    ("words", pa.int64()),
    ("exact", pa.string()),
]


class KeyWriter:
    """Collects one shard's keys document by document; `write` stores them atomically."""

    def __init__(self, cfg: DedupConfig) -> None:
        self.cfg = cfg
        self.hasher = MinHasher(cfg.bands * cfg.rows, cfg.ngram, cfg.seed)
        self.columns: dict[str, list[object]] = {name: [] for name, _ in FIELDS}
        self.bands: list[np.ndarray] = []
        self.batch: list[str] = []

    def __len__(self) -> int:
        return len(self.columns["id"])

    def add(self, doc: Document) -> None:
        self.columns["id"].append(doc.id)
        self.columns["lang"].append(doc.lang)
        self.columns["bytes"].append(len(doc.text.encode("utf-8")))
        self.columns["words"].append(len(words(doc.text)))
        self.columns["exact"].append(normalized_hash(doc.text))
        self.batch.append(doc.text)
        if len(self.batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self.batch:
            sigs = self.hasher.signatures(self.batch)
            self.bands.append(band_hashes(sigs, self.cfg.bands, self.cfg.rows))
            self.batch.clear()

    def write(self, path: Path) -> None:
        self._flush()
        matrix = (
            np.concatenate(self.bands) if self.bands else np.empty((0, self.cfg.bands), np.uint64)
        )
        table = pa.table(
            {
                **{name: pa.array(self.columns[name], type=t) for name, t in FIELDS},
                **{f"band{b}": pa.array(matrix[:, b], pa.uint64()) for b in range(self.cfg.bands)},
            }
        )
        with atomic_path(Path(path)) as tmp:
            pq.write_table(table, tmp, compression="zstd")
