"""JSON Lines reader (plain, .gz, .zst), streaming line by line."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import zstandard

from openeurollm.data.document import Document
from openeurollm.data.readers import READERS, Quarantined
from openeurollm.data.readers.streams import Damage, decoded_pieces
from openeurollm.data.url_parts import url_host

if TYPE_CHECKING:
    from openeurollm.config import InputSpec

MAX_LINE_BYTES = 8 * 1024 * 1024  # longer records are quarantined, never loaded whole
_BOM = b"\xef\xbb\xbf"
_DECODE_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)


class _PieceStream(io.RawIOBase):
    """A file-like view of `decoded_pieces`: bounded output per read, and a damaged or
    truncated member raises EOFError where zstandard's own stream reader would end cleanly."""

    def __init__(self, path: Path) -> None:
        self._pieces = decoded_pieces(path, resync=False)
        self._piece = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._piece:
            piece = next(self._pieces, b"")
            if isinstance(piece, Damage):
                raise EOFError(piece.reason)
            if not piece:
                return 0
            self._piece = memoryview(piece)
        n = min(len(buffer), len(self._piece))
        buffer[:n] = self._piece[:n]
        self._piece = self._piece[n:]
        return n

    def close(self) -> None:
        self._pieces.close()
        super().close()


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for streaming, decompressing by extension."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".zst":
        return io.BufferedReader(_PieceStream(path))
    return open(path, "rb")


def _is_empty(path: Path) -> bool:
    with open_binary(path) as fh:
        return not fh.read(8192).removeprefix(_BOM).strip()


def _lines(fh: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Yield (line, too_long). An over-long line is skipped in bounded chunks, not read whole."""
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            head = line[:200]
            while True:  # drain the rest of this line
                more = fh.readline(MAX_LINE_BYTES)
                if not more or more.endswith(b"\n"):
                    break
            yield head, True
            continue
        yield line, False


def document_from_record(record: dict, spec: InputSpec, where: str) -> Document | Quarantined:
    text = record.get(spec.text_field)
    if not isinstance(text, str) or not text.strip():
        return Quarantined(where, f"no text in field {spec.text_field!r}", _sample(record))
    url = str(record.get(spec.url_field) or "")
    host = url_host(url) if url else ""
    if host is None:
        return Quarantined(where, "unparseable URL", url[:200])
    lang = record.get(spec.lang_field) or ""
    meta = {
        k: v
        for k, v in record.items()
        if k not in (spec.text_field, spec.lang_field, spec.url_field)
    }
    if url and "domain" not in meta:
        meta["domain"] = host
    if spec.license and "license" not in meta:
        meta["license"] = spec.license
    if spec.name:
        meta.setdefault("dataset", spec.name)
    return Document.new(text, lang=str(lang), source=url or where, **meta)


def _sample(record: dict) -> str:
    try:
        return json.dumps(record)[:200]
    except (ValueError, RecursionError):
        return ""


def _binary_line(raw: bytes, where: str) -> Quarantined | None:
    """A line that is not text (a NUL byte or invalid UTF-8), quarantined; None for text."""
    sample = raw[:200].decode("utf-8", "replace")
    if b"\x00" in raw:
        return Quarantined(where, f"NUL byte: at byte {raw.index(0)}", sample)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Quarantined(where, f"invalid UTF-8: at byte {exc.start}", sample)
    return None


def _parse_line(line: str, spec: InputSpec, where: str) -> Document | Quarantined:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Quarantined(where, f"malformed JSON: {exc.msg}", line[:200])
    except RecursionError:
        return Quarantined(where, "JSON nested too deeply", line[:200])
    except ValueError as exc:  # an integer literal longer than Python converts (4,300 digits)
        return Quarantined(where, f"unreadable JSON value: {str(exc)[:80]}", line[:200])
    if not isinstance(record, dict):
        return Quarantined(where, "JSON line is not an object", line[:200])
    try:  # JSON escapes can smuggle in lone surrogates that no UTF-8 file can hold
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return Quarantined(where, "unpaired UTF-16 surrogate escape in JSON", line[:200])
    except RecursionError:
        return Quarantined(where, "JSON nested too deeply", line[:200])
    return document_from_record(record, spec, where)


class _BinaryRun:
    """Consecutive lines that are not text become one quarantine entry counting them all,
    so a binary file costs one entry, not one per newline byte, and no good line is lost."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.first: Quarantined | None = None
        self.lines = 0
        self.last = 0

    def add(self, item: Quarantined, lineno: int) -> None:
        self.first = self.first or item
        self.lines += 1
        self.last = lineno

    def flush(self) -> Iterator[Quarantined]:
        if self.first is not None and self.lines == 1:
            yield self.first
        elif self.first is not None:
            start = self.first.source.rsplit(":", 1)[1]
            yield Quarantined(
                f"{self.path}:{start}-{self.last}",
                f"binary data: {self.lines} lines of NUL bytes or invalid UTF-8",
                self.first.sample,
                lost=self.lines,
            )
        self.first, self.lines = None, 0


@READERS.register("jsonl")
def read_jsonl(path: Path, spec: InputSpec) -> Iterator[Document | Quarantined]:
    lineno = 0
    binary = _BinaryRun(path)
    try:
        if _is_empty(path):
            yield Quarantined(str(path), "empty file")
            return
        with open_binary(path) as fh:
            for raw, too_long in _lines(fh):
                lineno += 1
                where = f"{path}:{lineno}"
                if lineno == 1:
                    raw = raw.removeprefix(_BOM)  # a byte order mark is not part of the record
                if too_long:
                    yield from binary.flush()
                    yield Quarantined(
                        where,
                        f"line longer than {MAX_LINE_BYTES} bytes",
                        raw.decode("utf-8", "replace"),
                    )
                    continue
                if not raw.strip():
                    continue
                if bad := _binary_line(raw, where):
                    binary.add(bad, lineno)
                    continue
                yield from binary.flush()
                yield _parse_line(raw.decode("utf-8"), spec, where)
            yield from binary.flush()
    except _DECODE_ERRORS as exc:
        yield from binary.flush()
        yield Quarantined(
            f"{path}:{lineno + 1}", f"unreadable from here on: {type(exc).__name__}: {exc}"
        )
