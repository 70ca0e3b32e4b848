"""Readers stream: reading a file four times as large takes no more memory.

Each reader runs in a fresh process over a generated file of N and of 4N documents, consuming
and discarding what it yields; the peak resident memory (VmHWM) of the two runs must stay
within a few MB of each other while the content grows by tens of MB. A reader that collected
its documents, or read the whole file at once, would grow by at least the added content.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.data.helpers import warc_record, write_warc_gz

PROBE = """
import sys
from pathlib import Path
from openeurollm.config import InputSpec
from openeurollm.data.readers import READERS

fmt, path = sys.argv[1], Path(sys.argv[2])
spec = InputSpec.model_construct(path=str(path), format=fmt, license="CC0-1.0")
docs = 0
for item in READERS.get(fmt)(path, spec):
    docs += type(item).__name__ == "Document"
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(docs, int(hwm.split()[1]) // 1024)
"""


def _texts(n: int, seed: int) -> list[str]:
    """n documents of about 1.5 KB of made-up words (cheap to make, real-sized to read)."""
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choices("abcdefghijklmnoprstuvz", k=rng.randint(2, 9))) for _ in range(3000)
    ]
    return [" ".join(rng.choices(vocab, k=250)) + "." for _ in range(n)]


def _write(fmt: str, path: Path, n: int) -> Path:
    texts = _texts(n, seed=n)
    if fmt == "jsonl":
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as fh:
            for i, text in enumerate(texts):
                fh.write(json.dumps({"text": text, "url": f"https://s{i % 97}.example/{i}"}) + "\n")
    elif fmt == "parquet":
        table = pa.table({"text": texts, "url": [f"https://s.example/{i}" for i in range(n)]})
        pq.write_table(table, path, row_group_size=1000)
    else:
        page = "<html><body><article><p>{}</p></article></body></html>"
        records = [
            warc_record(f"https://s.example/{i}", page.format(t), n=i) for i, t in enumerate(texts)
        ]
        write_warc_gz(path, records)
    return path


def _peak_mb(fmt: str, path: Path) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, fmt, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.parametrize(
    ("fmt", "suffix", "n"),
    [("jsonl", ".jsonl.gz", 8000), ("parquet", ".parquet", 8000), ("warc", ".warc.gz", 4000)],
)
def test_reader_memory_does_not_grow_with_file_size(
    tmp_path: Path, fmt: str, suffix: str, n: int
) -> None:
    small = _write(fmt, tmp_path / f"small{suffix}", n)
    large = _write(fmt, tmp_path / f"large{suffix}", 4 * n)
    docs_small, peak_small = _peak_mb(fmt, small)
    docs_large, peak_large = _peak_mb(fmt, large)
    assert (docs_small, docs_large) == (n, 4 * n)
    added_content_mb = 3 * n * 1.5e3 / 1e6  # ~36 MB for jsonl and parquet, ~18 MB for warc
    assert peak_large - peak_small < 10, (
        f"{fmt}: peak RSS {peak_small} MB for {n} docs, {peak_large} MB for {4 * n} "
        f"(content grew by ~{added_content_mb:.0f} MB)"
    )
