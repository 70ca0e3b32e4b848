"""Readers (JSONL plain/.gz/.zst, Parquet, WARC) and what they do with bad input."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from openeurollm.config import InputSpec
from openeurollm.data.document import Document
from openeurollm.data.ingest import ingest_file
from openeurollm.data.readers import READERS, Quarantined, SourceInfo
from tests.data.helpers import (
    CRAWLER_FIELDS,
    clean_docs,
    paragraph,
    warc_record,
    warcinfo_record,
    write_warc_gz,
)


def _spec(fmt: str = "jsonl", **kw) -> InputSpec:
    base = {
        "path": "x",
        "format": fmt,
        "name": "t",
        "license": "CC0-1.0",
        "text_field": "text",
        "lang_field": "lang",
        "url_field": "url",
    }
    return InputSpec.model_construct(**(base | kw))


def _read(path: Path, fmt: str = "jsonl") -> tuple[list[Document], list[Quarantined]]:
    items = list(READERS.get(fmt)(path, _spec(fmt)))
    return [i for i in items if isinstance(i, Document)], [
        i for i in items if isinstance(i, Quarantined)
    ]


def _lines(n: int = 5) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in clean_docs("en", n)).encode()


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
def test_jsonl_plain_and_compressed(tmp_path: Path, suffix: str) -> None:
    data = _lines(5)
    path = tmp_path / f"a.jsonl{suffix}"
    if suffix == ".gz":
        data = gzip.compress(data)
    elif suffix == ".zst":
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    docs, bad = _read(path)
    assert len(docs) == 5 and not bad
    assert docs[0].meta["domain"] == "site0.en.example" and docs[0].meta["license"] == "CC0-1.0"


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_truncated_compressed_file_keeps_what_was_readable(tmp_path: Path, suffix: str) -> None:
    raw = _lines(40)
    comp = gzip.compress(raw) if suffix == ".gz" else zstandard.ZstdCompressor().compress(raw)
    path = tmp_path / f"t.jsonl{suffix}"
    path.write_bytes(comp[: len(comp) * 2 // 3])
    docs, bad = _read(path)
    assert bad, "a truncated stream must be reported"
    assert len(docs) < 40
    assert all(isinstance(d.text, str) and d.text for d in docs)


def test_bad_records_quarantined_and_counts_reconcile(tmp_path: Path) -> None:
    good = [json.dumps(r) for r in clean_docs("en", 3)]
    lines = [
        good[0].encode(),
        b'{"text": "broken json',
        good[1].encode(),
        b'{"text": "bad utf8 \xff\xfe here"}',
        b"[1, 2, 3]",
        b'{"other": "no text field"}',
        b'{"text": "lone surrogate \\ud800"}',
        good[2].encode(),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    stats = ingest_file(
        str(path), _spec().model_dump(), str(tmp_path / "o"), str(tmp_path / "q.jsonl")
    )
    assert stats["docs"] == 3
    assert sum(stats["quarantined"].values()) == 5
    assert stats["docs"] + sum(stats["quarantined"].values()) == len(lines)
    reasons = [json.loads(x)["reason"] for x in (tmp_path / "q.jsonl").read_text().splitlines()]
    assert any(r.startswith("malformed JSON") for r in reasons)
    assert any(r.startswith("invalid UTF-8") for r in reasons)


def test_ingest_records_the_collection_period(tmp_path: Path) -> None:
    """Our `crawl_date`, a Common Crawl export's ISO timestamp in `date`, or no date at all."""
    rows = [
        {"text": "a b c", "lang": "en", "crawl_date": "2025-02-10"},
        {"text": "d e f", "lang": "en", "date": "2024-11-03T08:15:00Z"},
        {"text": "g h i", "lang": "en", "date": "last spring"},
        {"text": "j k l", "lang": "en"},
        {"text": "m n o", "lang": "en", "crawl_date": "2025-07-01"},
    ]
    path = tmp_path / "dated.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    stats = ingest_file(
        str(path), _spec().model_dump(), str(tmp_path / "o"), str(tmp_path / "q.jsonl")
    )
    assert (stats["collection_start"], stats["collection_end"]) == ("2024-11-03", "2025-07-01")
    assert stats["undated_docs"] == 2


def test_50mb_single_line_is_quarantined_without_loading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as fh:
        fh.write(_lines(2))
        fh.write(b'{"text": "')
        chunk = b"a" * (1 << 20)
        for _ in range(50):
            fh.write(chunk)
        fh.write(b'"}\n')
        fh.write(_lines(1))
    docs, bad = _read(path)
    assert len(docs) == 3
    assert len(bad) == 1 and bad[0].reason.startswith("line longer than")


def test_empty_and_binary_files_quarantined(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    docs, bad = _read(empty)
    assert not docs and len(bad) == 1 and "empty" in bad[0].reason
    binary = tmp_path / "blob.jsonl"
    blob = random.Random(3).randbytes(1 << 16)
    binary.write_bytes(blob)
    docs, bad = _read(binary)
    lines = sum(1 for line in blob.split(b"\n") if line.strip())
    assert not docs and sum(b.lost for b in bad) == lines  # every line counted as lost
    assert len(bad) < lines // 10 and "binary" in bad[0].reason  # runs of lines, one entry each


def test_parquet_reader_streams_rows_and_keeps_metadata(tmp_path: Path) -> None:
    rows = clean_docs("de", 1200)
    for r in rows:
        r["crawl_date"] = "2025-01-01"
    path = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=300)
    docs, bad = _read(path, "parquet")
    assert len(docs) == 1200 and not bad
    assert docs[0].meta["crawl_date"] == "2025-01-01" and docs[0].lang == "de"
    notext = tmp_path / "b.parquet"
    pq.write_table(pa.table({"body": ["x"]}), notext)
    docs, bad = _read(notext, "parquet")
    assert not docs and "no column 'text'" in bad[0].reason
    broken = tmp_path / "c.parquet"
    broken.write_bytes(path.read_bytes()[:5000])
    docs, bad = _read(broken, "parquet")
    assert not docs and bad[0].reason.startswith("unreadable")


def test_warc_reader_extracts_main_text_and_optout_signals(tmp_path: Path) -> None:
    rng = random.Random(5)
    texts = [paragraph("en", rng) for _ in range(3)]
    html = (
        "<html><head><title>t</title>{meta}</head><body><nav><a href='/'>Home</a> "
        "<a href='/a'>About us</a></nav><article><p>{p}</p></article>"
        "<footer>Imprint | Privacy</footer></body></html>"
    )
    records = [
        warc_record("https://www.one.example/a", html.format(meta="", p=texts[0]), n=1),
        warc_record(
            "https://two.example/b",
            html.format(meta='<meta name="robots" content="noai">', p=texts[1]),
            {"tdm-reservation": "1"},
            n=2,
        ),
        warc_record("https://three.example/c", html.format(meta="", p=texts[2]), n=3),
    ]
    path = write_warc_gz(tmp_path / "crawl.warc.gz", [warcinfo_record(CRAWLER_FIELDS), *records])
    infos = [i for i in READERS.get("warc")(path, _spec("warc")) if isinstance(i, SourceInfo)]
    assert [i.fields for i in infos] == [CRAWLER_FIELDS]  # who crawled, not a document
    docs, bad = _read(path, "warc")
    assert not bad and [d.source for d in docs] == [
        "https://www.one.example/a",
        "https://two.example/b",
        "https://three.example/c",
    ]
    assert texts[0] in docs[0].text and "Imprint" not in docs[0].text
    assert docs[0].meta["domain"] == "www.one.example"
    assert docs[0].meta["crawl_date"].startswith("2025-03-02")
    assert docs[0].meta["license"] == "CC0-1.0"
    assert docs[1].meta["tdm_reservation"] == "1" and docs[1].meta["tdm_source"] == "header"
    assert docs[1].meta["robots"] == ["noai"]
    # A crawl cut off mid-record: the complete records before it still come through.
    cut = tmp_path / "cut.warc.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) - 200])
    docs, bad = _read(cut, "warc")
    assert len(docs) >= 2 and len(docs) + len(bad) >= 2
