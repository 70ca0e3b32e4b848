"""WARC record framing that trusts nothing it reads.

Records are taken from the decompressed stream (`streams.decoded_pieces`) by their own
framing: a `WARC/1.x` line, header lines, a blank line, exactly Content-Length bytes of
block, then the CRLF CRLF that ends every record. A record whose block is shorter than
its Content-Length (a cut file), whose header is unreadable (`Content-Length: abc`,
garbage), or whose end is not where its Content-Length says, is quarantined on its own;
reading resumes at the next line that starts a record, and bytes skipped on the way are
counted. A damaged compressed member costs the records it held. Memory stays bounded: a
block is held only up to `max_block` bytes; larger ones are skipped unread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openeurollm.data.readers import Quarantined
from openeurollm.data.readers.streams import Damage

MAX_HEADER_LINE = 64 * 1024
MAX_HEADER_LINES = 256
RECORD_START = b"WARC/1."
RECORD_END = b"\r\n\r\n"
WARC_TYPES = frozenset(  # WARC 1.1, section 6
    {"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion"}
    | {"continuation"}
)


@dataclass
class WarcRecord:
    number: int  # 1-based position among all records of the file
    headers: dict[str, str]  # lower-cased names
    block: bytes | None  # None: not asked for, or larger than max_block (then skipped)

    @property
    def type(self) -> str:
        return self.headers.get("warc-type", "").lower()


class _Broken(Exception):
    """The stream lost bytes here (a damaged compressed member)."""

    def __init__(self, damage: Damage) -> None:
        self.reason = f"damaged compressed data: {damage.reason} (member at byte {damage.offset})"
        super().__init__(self.reason)


class _Cursor:
    """Buffered reading over decoded pieces; a Damage raises _Broken where it falls."""

    def __init__(self, pieces: Iterator[bytes | Damage]) -> None:
        self._pieces = pieces
        self._buf = bytearray()

    def _fill(self) -> bool:
        piece = next(self._pieces, None)
        if isinstance(piece, Damage):
            raise _Broken(piece)
        if piece is None:
            return False
        self._buf += piece
        return True

    def readline(self, limit: int) -> bytes:
        while True:
            end = self._buf.find(b"\n", 0, limit)
            if end >= 0 or len(self._buf) >= limit or not self._fill():
                n = end + 1 if end >= 0 else min(limit, len(self._buf))
                line = bytes(self._buf[:n])
                del self._buf[:n]
                return line

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and self._fill():
            pass
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def skip(self, n: int) -> int:
        skipped = 0
        while skipped < n and (self._buf or self._fill()):
            step = min(n - skipped, len(self._buf))
            del self._buf[:step]
            skipped += step
        return skipped

    def unread(self, data: bytes) -> None:
        self._buf[:0] = data


def warc_records(
    path: Path, pieces: Iterator[bytes | Damage], wanted: set[str], max_block: int
) -> Iterator[WarcRecord | Quarantined]:
    """Every record of the stream in order, or a Quarantined entry for what was lost."""
    cur = _Cursor(pieces)
    number = 0
    skipped = [0, 0]  # bytes between records that belong to none, and record headers among them
    while True:
        try:
            line = cur.readline(MAX_HEADER_LINE)
        except _Broken as exc:  # a lost member between records: count it as the next record
            number += 1
            yield Quarantined(f"{path}:record{number}", exc.reason)
            continue
        start = line.find(RECORD_START)
        if start > 0:  # a record right after bytes of a cut one, on the same line
            skipped[0] += start
            line = line[start:]
        if start >= 0 or not line:
            if skipped[0]:
                yield _garbage(path, number, *skipped)
                skipped = [0, 0]
            if not line:
                return
            number += 1
            yield _record(cur, path, number, wanted, max_block)
        elif line.strip():
            skipped[0] += len(line)
            skipped[1] += line[:10].lower() == b"warc-type:"


def _garbage(path: Path, number: int, skipped: int, headers: int) -> Quarantined:
    """Bytes that belong to no record; a record whose first line was damaged is among them
    for each WARC-Type field seen there."""
    return Quarantined(
        f"{path}:after record{number}",
        f"not a WARC record: {skipped} bytes skipped to the next record",
        lost=max(1, headers),
    )


def _record(
    cur: _Cursor, path: Path, number: int, wanted: set[str], max_block: int
) -> WarcRecord | Quarantined:
    where = f"{path}:record{number}"
    try:
        headers = _headers(cur)
        if headers is None:
            return Quarantined(where, "truncated record: the file ends inside its header")
        ident = headers.get("warc-record-id", "") or headers.get("warc-target-uri", "")
        length = headers.get("content-length", "").strip()
        if not (length.isascii() and length.isdigit() and len(length) <= 18):
            lost = _skip_to_next_record(cur)
            return Quarantined(
                where, f"bad Content-Length: {length[:40]!r}, {lost} bytes skipped", ident
            )
        record = WarcRecord(number, headers, None)
        size = int(length)
        # Blocks up to max_block are read even when not wanted: if Content-Length lied, the
        # next record may be inside, and only bytes still at hand can be read again.
        block = cur.read(size) if size <= max_block else b""
        got = len(block) if size <= max_block else cur.skip(size)
        if got < size:
            _unread_next_record(cur, block)
            return Quarantined(where, f"truncated record: {got} of {size} bytes", ident)
        if not _ends_here(cur, block):
            return Quarantined(where, "record does not end where its Content-Length says", ident)
        if record.type not in WARC_TYPES:
            return Quarantined(where, f"unknown WARC-Type: {record.type[:40]!r}", ident)
        if record.type in wanted and size <= max_block:
            record.block = block
        return record
    except _Broken as exc:
        return Quarantined(where, exc.reason)


def _headers(cur: _Cursor) -> dict[str, str] | None:
    """Header fields up to the blank line (lower-cased names), None at the end of the file;
    a header that never ends within MAX_HEADER_LINES lines reads as having no fields."""
    headers: dict[str, str] = {}
    name = ""
    for _ in range(MAX_HEADER_LINES):
        line = cur.readline(MAX_HEADER_LINE)
        if not line:
            return None
        if not line.strip():
            return headers
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if text[:1] in (" ", "\t") and name:  # a folded continuation of the previous field
            headers[name] += " " + text.strip()
            continue
        key, sep, value = text.partition(":")
        if sep:
            name = key.strip().lower()
            headers.setdefault(name, value.strip())
    return {}


def _ends_here(cur: _Cursor, block: bytes) -> bool:
    """Whether the record end (CRLF CRLF, or the end of the file) follows the block. If
    not, Content-Length lied: put back what may hold the next record so it is not lost."""
    tail = cur.read(len(RECORD_END))
    if tail == RECORD_END or (not tail.strip(b"\r\n") and len(tail) < len(RECORD_END)):
        return True
    if not _unread_next_record(cur, block + tail):
        cur.unread(tail)
    return False


def _unread_next_record(cur: _Cursor, seen: bytes) -> bool:
    """Put back `seen` from the first record start in it (a Content-Length that was too
    large swallowed the next record), so that record is read; False if none is there."""
    start = seen.find(RECORD_START)
    if start >= 0:
        cur.unread(seen[start:])
    return start >= 0


def _skip_to_next_record(cur: _Cursor) -> int:
    """Skip to the next line that starts a record (left unread); returns the bytes skipped."""
    skipped = 0
    while line := cur.readline(MAX_HEADER_LINE):
        start = line.find(RECORD_START)
        if start >= 0:
            cur.unread(line[start:])
            return skipped + start
        skipped += len(line)
    return skipped
