"""Hostile JSON Lines and Parquet input costs the record it is in, never the file or the stage.

Each test writes the attack itself: a line nested 100,000 levels deep, a URL no parser takes,
a NUL byte among good lines, a byte order mark, a whole binary file, a zstd bomb.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from openeurollm.data.document import Document
from openeurollm.data.ingest import ingest_file
from openeurollm.data.optout import OptOutPolicy, document_domain, normalize_domain
from tests.data.helpers import clean_docs
from tests.data.test_reader_memory import _peak_mb
from tests.data.test_readers import _read, _spec

BAD_URL = "https://[bad-ipv6/page"


def _good_lines(n: int) -> list[bytes]:
    return [json.dumps(r).encode() for r in clean_docs("en", n)]


def _ingest(path: Path, tmp_path: Path, fmt: str = "jsonl") -> tuple[dict, list[dict]]:
    stats = ingest_file(
        str(path), _spec(fmt).model_dump(), str(tmp_path / "o"), str(tmp_path / "q.jsonl")
    )
    entries = [json.loads(x) for x in (tmp_path / "q.jsonl").read_text().splitlines()]
    return stats, entries


def test_deep_nesting_huge_number_and_bad_url_cost_one_line_each(tmp_path: Path) -> None:
    good = _good_lines(4)
    deep = b'{"text": "x", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    bad_url = json.dumps({"text": "Ein Text.", "url": BAD_URL}).encode()
    path = tmp_path / "hostile.jsonl"
    huge_int = b'{"text": "x", "n": ' + b"7" * 5000 + b"}"  # past Python's int() digit limit
    lines = [good[0], deep, good[1], bad_url, good[2], huge_int, good[3]]
    path.write_bytes(b"\n".join(lines) + b"\n")
    stats, entries = _ingest(path, tmp_path)
    assert stats["docs"] == 4
    assert [(e["source"].rsplit(":", 1)[1], e["reason"].split(":")[0]) for e in entries] == [
        ("2", "JSON nested too deeply"),
        ("4", "unparseable URL"),
        ("6", "unreadable JSON value"),
    ]


def test_bad_url_row_in_parquet_costs_that_row(tmp_path: Path) -> None:
    rows = clean_docs("de", 5)
    rows[2]["url"] = BAD_URL
    path = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    docs, bad = _read(path, "parquet")
    assert len(docs) == 4
    assert [(b.source.rsplit(":", 1)[1], b.reason) for b in bad] == [("row3", "unparseable URL")]


def test_optout_takes_unparseable_urls_without_raising(tmp_path: Path) -> None:
    robots = tmp_path / "robots.jsonl"
    robots.write_text(
        json.dumps({"domain": "a.example", "robots_txt": "User-agent: *\nDisallow: /x\n"}) + "\n"
    )
    policy = OptOutPolicy(robots_snapshots=[robots])
    assert normalize_domain(BAD_URL) == ""
    assert document_domain(Document.new("t", source=BAD_URL)) == ""
    # Parses, but the robots parser percent-decodes it first into a bracket in the host.
    doc = Document.new("t", source="https://a.example%5B/x", domain="a.example")
    assert policy.decide(doc).rule == "none"  # judged as the domain's front page
    blocked = Document.new("t", source="https://a.example/x/1", domain="a.example")
    assert policy.decide(blocked).rule.startswith("robots_txt")


def test_nul_byte_near_the_top_costs_only_its_line(tmp_path: Path) -> None:
    lines = _good_lines(30)
    lines[1] = lines[1][:40] + b"\x00" + lines[1][40:]
    path = tmp_path / "nul.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    stats, entries = _ingest(path, tmp_path)
    assert stats["docs"] == 29
    assert [(e["source"].rsplit(":", 1)[1], e["reason"], e["lost"]) for e in entries] == [
        ("2", "NUL byte: at byte 40", 1)
    ]


def test_binary_file_is_one_entry_that_counts_every_line(tmp_path: Path) -> None:
    rng = random.Random(7)
    junk = [bytes([0]) + rng.randbytes(rng.randint(1, 300)).replace(b"\n", b"") for _ in range(500)]
    good = _good_lines(2)
    path = tmp_path / "blob.jsonl"
    path.write_bytes(b"\n".join([good[0], *junk, good[1]]) + b"\n")
    stats, entries = _ingest(path, tmp_path)
    assert stats["docs"] == 2  # the good lines on either side survive
    assert len(entries) == 1 and entries[0]["lost"] == 500
    assert entries[0]["source"].endswith(":2-501")
    assert stats["quarantined"] == {"binary data": 500}  # lines lost, not entries


def test_byte_order_mark_does_not_cost_the_first_record(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(_good_lines(3)) + b"\n")
    docs, bad = _read(path)
    assert len(docs) == 3 and not bad


def _zstd_bomb(path: Path, line_bytes: int) -> Path:
    """Two good lines around one line of `line_bytes` bytes, compressed ~1:30,000 by zstd."""
    good = _good_lines(2)
    with open(path, "wb") as fh, zstandard.ZstdCompressor().stream_writer(fh) as zfh:
        zfh.write(good[0] + b'\n{"text": "')
        block = b"a" * (1 << 20)
        for _ in range(line_bytes >> 20):
            zfh.write(block)
        zfh.write(b'"}\n' + good[1] + b"\n")
    return path


def test_zstd_bomb_is_read_in_bounded_memory(tmp_path: Path) -> None:
    bomb = _zstd_bomb(tmp_path / "bomb.jsonl.zst", 256 << 20)
    assert bomb.stat().st_size < 50_000  # 256 MB behind it
    small = _zstd_bomb(tmp_path / "small.jsonl.zst", 1 << 20)
    docs_bomb, peak_bomb = _peak_mb("jsonl", bomb)
    docs_small, peak_small = _peak_mb("jsonl", small)
    assert (docs_bomb, docs_small) == (2, 3)  # the bomb's line is quarantined, not a document
    assert peak_bomb - peak_small < 64, f"peak {peak_bomb} MB for the bomb, {peak_small} MB"
