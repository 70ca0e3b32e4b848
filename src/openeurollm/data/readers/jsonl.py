"""JSON Lines reader (plain, .gz, .zst), streaming line by line."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

import zstandard

from openeurollm.data.document import Document
from openeurollm.data.readers import READERS, Quarantined

if TYPE_CHECKING:
    from openeurollm.config import InputSpec

MAX_LINE_BYTES = 8 * 1024 * 1024  # longer records are quarantined, never loaded whole
_DECODE_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)


class _ZstdStream(io.RawIOBase):
    """Streaming zstd decompression that notices a truncated last frame.

    zstandard's stream_reader returns a clean end of file when the input stops inside a
    frame; we need to tell a complete file from a cut one, so frames are fed by hand.
    """

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115  (closed by close())
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._pending = b""
        self._offset = 0  # read position in _pending (slicing would copy it each call)
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._offset >= len(self._pending):
            self._pending, self._offset = b"", 0
            chunk = self._fh.read(1 << 16)
            if not chunk:
                if self._in_frame:
                    raise EOFError("zstd stream ended inside a frame (truncated file)")
                return 0
            while chunk:
                self._in_frame = True
                self._pending += self._obj.decompress(chunk)
                if self._obj.eof:  # frame complete; what follows starts a new frame
                    chunk = self._obj.unused_data
                    self._obj = self._dctx.decompressobj()
                    self._in_frame = False
                else:
                    chunk = b""
        n = min(len(buffer), len(self._pending) - self._offset)
        buffer[:n] = memoryview(self._pending)[self._offset : self._offset + n]
        self._offset += n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for streaming, decompressing by extension."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".zst":
        return io.BufferedReader(_ZstdStream(path))
    return open(path, "rb")


def _file_problem(path: Path) -> str | None:
    """A reason to quarantine the whole file (empty, or not text at all), else None."""
    with open_binary(path) as fh:
        head = fh.read(8192)
    if not head.strip():
        return "empty file"
    if b"\x00" in head:
        return "binary file (NUL bytes), not JSON Lines"
    return None


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
        return Quarantined(where, f"no text in field {spec.text_field!r}", json.dumps(record)[:200])
    url = record.get(spec.url_field) or ""
    lang = record.get(spec.lang_field) or ""
    meta = {
        k: v
        for k, v in record.items()
        if k not in (spec.text_field, spec.lang_field, spec.url_field)
    }
    if url and "domain" not in meta:
        meta["domain"] = urlsplit(str(url)).hostname or ""
    if spec.license and "license" not in meta:
        meta["license"] = spec.license
    if spec.name:
        meta.setdefault("dataset", spec.name)
    return Document.new(text, lang=str(lang), source=str(url) or where, **meta)


@READERS.register("jsonl")
def read_jsonl(path: Path, spec: InputSpec) -> Iterator[Document | Quarantined]:
    lineno = 0
    try:
        problem = _file_problem(path)
        if problem:
            yield Quarantined(str(path), problem)
            return
        with open_binary(path) as fh:
            for raw, too_long in _lines(fh):
                lineno += 1
                where = f"{path}:{lineno}"
                if too_long:
                    yield Quarantined(
                        where,
                        f"line longer than {MAX_LINE_BYTES} bytes",
                        raw.decode("utf-8", "replace"),
                    )
                    continue
                if not raw.strip():
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield Quarantined(
                        where,
                        f"invalid UTF-8 at byte {exc.start}",
                        raw[:200].decode("utf-8", "replace"),
                    )
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield Quarantined(where, f"malformed JSON: {exc.msg}", line[:200])
                    continue
                if not isinstance(record, dict):
                    yield Quarantined(where, "JSON line is not an object", line[:200])
                    continue
                try:  # JSON escapes can smuggle in lone surrogates that no UTF-8 file can hold
                    json.dumps(record, ensure_ascii=False).encode("utf-8")
                except UnicodeEncodeError:
                    yield Quarantined(where, "unpaired UTF-16 surrogate escape in JSON", line[:200])
                    continue
                yield document_from_record(record, spec, where)
    except _DECODE_ERRORS as exc:
        yield Quarantined(
            f"{path}:{lineno + 1}", f"unreadable from here on: {type(exc).__name__}: {exc}"
        )
