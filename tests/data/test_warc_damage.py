"""Damaged and hostile WARC files: each attack costs the records it touches, named and
counted, and the reader resynchronizes on the next record for the rest of the file."""

from __future__ import annotations

import gzip
import random
import time
from pathlib import Path

import pytest
import zstandard

from openeurollm.data.document import Document
from openeurollm.data.readers import READERS, Quarantined
from tests.data.helpers import paragraph, warc_record, write_warc_gz
from tests.data.test_reader_memory import _peak_mb
from tests.data.test_readers import _read, _spec

PAGE = "<html><head><title>t</title>{meta}</head><body><article><p>{p}</p></article></body></html>"


def _records(n: int, url: str = "https://site.example/{i}") -> tuple[list[bytes], list[str]]:
    rng = random.Random(n)
    texts = [paragraph("en", rng) for _ in range(n)]
    pages = [PAGE.format(meta="", p=t) for t in texts]
    return [warc_record(url.format(i=i), page, n=i) for i, page in enumerate(pages)], texts


def _where(q: Quarantined) -> str:
    return q.source.rsplit(":", 1)[1]


def _assert_whole(docs: list[Document], texts: list[str], indexes: list[int]) -> None:
    """Exactly these records became documents, each with its whole paragraph."""
    assert len(docs) == len(indexes)
    for doc, i in zip(docs, indexes, strict=True):
        assert texts[i] in doc.text, f"record {i} incomplete: {doc.text[:80]!r}"


def test_truncated_last_gzip_member_is_quarantined_not_shortened(tmp_path: Path) -> None:
    records, texts = _records(3)
    path = write_warc_gz(tmp_path / "cut.warc.gz", records)
    last = len(gzip.compress(records[-1]))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) - last // 2])  # the last member cut in half
    docs, bad = _read(path, "warc")
    _assert_whole(docs, texts, [0, 1])
    assert len(bad) == 1 and "truncated" in bad[0].reason


def test_plain_warc_cut_at_the_end_reports_bytes_missing(tmp_path: Path) -> None:
    records, texts = _records(3)
    path = tmp_path / "cut.warc"
    path.write_bytes(b"".join(records)[:-400])
    docs, bad = _read(path, "warc")
    _assert_whole(docs, texts, [0, 1])
    assert [_where(b) for b in bad] == ["record3"]
    assert bad[0].reason.startswith("truncated record: ") and "of" in bad[0].reason


@pytest.mark.parametrize("suffix", [".warc", ".warc.gz", ".warc.zst"])
def test_bad_url_costs_its_record_and_names_it(tmp_path: Path, suffix: str) -> None:
    records, texts = _records(4)
    records[1] = warc_record("https://[bad-ipv6/page", PAGE.format(meta="", p=texts[1]), n=1)
    path = tmp_path / f"url{suffix}"
    if suffix == ".warc":
        path.write_bytes(b"".join(records))
    elif suffix == ".warc.zst":  # one zstd frame per record
        path.write_bytes(b"".join(zstandard.ZstdCompressor().compress(r) for r in records))
    else:
        write_warc_gz(path, records)
    docs, bad = _read(path, "warc")
    _assert_whole(docs, texts, [0, 2, 3])
    assert [(_where(b), b.reason) for b in bad] == [("record2", "unparseable URL")]


def test_record_cut_mid_file_costs_only_that_record(tmp_path: Path) -> None:
    records, texts = _records(4)
    damaged = records[1][: len(records[1]) // 2]  # half of record 2, then record 3 follows
    plain = tmp_path / "mid.warc"
    plain.write_bytes(records[0] + damaged + b"".join(records[2:]))
    docs, bad = _read(plain, "warc")
    _assert_whole(docs, texts, [0, 2, 3])
    assert [(_where(b), b.reason) for b in bad] == [
        ("record2", "record does not end where its Content-Length says")
    ]
    members = [gzip.compress(r) for r in records]
    members[1] = members[1][: len(members[1]) // 2]
    compressed = tmp_path / "mid.warc.gz"
    compressed.write_bytes(b"".join(members))
    docs, bad = _read(compressed, "warc")
    _assert_whole(docs, texts, [0, 2, 3])
    assert len(bad) == 1 and bad[0].reason.startswith("damaged compressed data")


def test_bad_content_length_and_garbage_resynchronize(tmp_path: Path) -> None:
    records, texts = _records(5)
    records[1] = records[1].replace(b"Content-Length: ", b"Content-Length: abc", 1)
    records[4] = records[4].replace(b"Content-Length: ", b"Content-Length: " + b"9" * 5000, 1)
    garbage = b"\x00\x01 this is not WARC\r\n" * 10
    path = tmp_path / "junk.warc"
    path.write_bytes(b"".join([*records[:3], garbage, *records[3:]]))
    docs, bad = _read(path, "warc")
    _assert_whole(docs, texts, [0, 2, 3])
    assert [_where(b) for b in bad] == ["record2", "after record3", "record5"]
    assert bad[0].reason.startswith("bad Content-Length: 'abc")
    assert bad[2].reason.startswith("bad Content-Length: '999")  # too long for int(): no raise
    assert bad[1].reason == f"not a WARC record: {len(garbage)} bytes skipped to the next record"


def test_hostile_meta_tag_parses_fast_and_real_tags_still_count(tmp_path: Path) -> None:
    """A 120 KB attribute took the old regex minutes (quadratic); a tokenizer is linear."""
    text = paragraph("en", random.Random(1))
    hostile = '<meta name="robots" content="noai"><meta ' + "a" * 120_000 + ">"
    path = tmp_path / "meta.warc"
    path.write_bytes(warc_record("https://m.example/", PAGE.format(meta=hostile, p=text)))
    start = time.perf_counter()
    items = list(READERS.get("warc")(path, _spec("warc")))
    assert time.perf_counter() - start < 5.0  # generous: the tokenizer takes milliseconds
    assert len(items) == 1 and isinstance(items[0], Document)
    assert items[0].meta["robots"] == ["noai"]


def test_oversized_record_is_quarantined_in_bounded_memory(tmp_path: Path) -> None:
    """A 96 MB record (a gzip member of ~100 KB) between two good ones: skipped in pieces,
    quarantined, and the reader's peak memory stays that of a small file."""
    records, texts = _records(2)
    huge = 96 << 20
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://big.example/\r\n"
        f"Content-Length: {huge}\r\n\r\n"
    ).encode()
    big = tmp_path / "big.warc.gz"
    with open(big, "wb") as fh:
        fh.write(gzip.compress(records[0]))
        with gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=1) as member:
            member.write(head)
            zeros = bytes(1 << 20)
            for _ in range(huge >> 20):
                member.write(zeros)
            member.write(b"\r\n\r\n")
        fh.write(gzip.compress(records[1]))
    small = write_warc_gz(tmp_path / "small.warc.gz", records)
    (docs_big, peak_big), (docs_small, peak_small) = _peak_mb("warc", big), _peak_mb("warc", small)
    assert (docs_big, docs_small) == (2, 2)
    assert peak_big - peak_small < 64, f"peak {peak_big} MB with the big record, {peak_small} MB"
    docs, bad = _read(big, "warc")
    _assert_whole(docs, texts, [0, 1])
    assert [(_where(b), b.reason) for b in bad] == [
        ("record2", "record larger than 10485760 bytes")
    ]
