"""Decompression with bounded output that reports damage instead of hiding it.

A compressed input is a series of members (gzip) or frames (zstd), often one per record
(WARC writers compress every record on its own). `decoded_pieces` decodes them one after
another and yields the output in pieces of bounded size, so a bomb (a few KB that expand
to GB) never sits in memory whole. Where a member cannot be decoded, or the file ends
inside one, it yields a `Damage` and, when asked to, resynchronizes on the next member's
magic bytes so one bad member costs only what it held.

A member's output is held back until the member has ended and passed its check (gzip's
CRC-32) as long as it stays below `hold` bytes: a reader that frames records on top never
sees bytes of a damaged member it would take for a whole record.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import zstandard

READ_BYTES = 1 << 16  # compressed bytes read from the file at a time
PIECE_BYTES = 1 << 20  # gzip output per decode call
# zstd has no output limit per call: feed it so little that even its densest block (an RLE
# block, 4 bytes of input for 128 KiB of output) stays below 8.5 MiB per call.
ZSTD_FEED_BYTES = 256
GZIP_MAGIC = b"\x1f\x8b\x08"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class Damage:
    """A member that could not be decoded: where it starts in the file, and why."""

    offset: int
    reason: str


# One decode step: (decoder, input) -> (output, input left over, member ended).
_Step = Callable[[Any, memoryview], tuple[bytes, memoryview, bool]]


def _gzip_step(dec: Any, data: memoryview) -> tuple[bytes, memoryview, bool]:
    out = dec.decompress(data, PIECE_BYTES)
    if dec.eof:
        return out, memoryview(dec.unused_data), True
    return out, memoryview(dec.unconsumed_tail), False


def _zstd_step(dec: Any, data: memoryview) -> tuple[bytes, memoryview, bool]:
    out = dec.decompress(data[:ZSTD_FEED_BYTES])
    if dec.eof:
        return out, memoryview(dec.unused_data + bytes(data[ZSTD_FEED_BYTES:])), True
    return out, data[ZSTD_FEED_BYTES:], False


_CODECS: dict[str, tuple[bytes, Callable[[], Any], _Step, tuple[type[Exception], ...]]] = {
    ".gz": (GZIP_MAGIC, lambda: zlib.decompressobj(wbits=31), _gzip_step, (zlib.error,)),
    ".zst": (
        ZSTD_MAGIC,
        lambda: zstandard.ZstdDecompressor().decompressobj(),
        _zstd_step,
        (zstandard.ZstdError,),
    ),
}


def decoded_pieces(path: Path, resync: bool, hold: int = 0) -> Iterator[bytes | Damage]:
    """The decompressed content of `path` (by suffix: .gz, .zst, else as stored) in pieces
    of at most ~8.5 MiB, with a `Damage` where a member is lost. Without `resync` the
    first damage ends the stream."""
    codec = _CODECS.get(path.suffix)
    with open(path, "rb") as fh:
        if codec is None:
            while chunk := fh.read(PIECE_BYTES):
                yield chunk
            return
        magic, new_decoder, step, errors = codec
        start = 0
        while start is not None:
            damage = yield from _member(fh, start, new_decoder, step, errors, hold)
            if damage is None:
                return
            yield damage
            start = _next_magic(fh, damage.offset + 1, magic) if resync else None


def _member(
    fh: IO[bytes],
    start: int,
    new_decoder: Callable[[], Any],
    step: _Step,
    errors: tuple[type[Exception], ...],
    hold: int,
) -> Generator[bytes, None, Damage | None]:
    """Decode members from file offset `start` until the end of the file (returns None) or
    the first member that fails (returns its Damage)."""
    fh.seek(start)
    data = memoryview(b"")
    while True:  # one member per pass
        if not data and not (data := memoryview(fh.read(READ_BYTES))):
            return None
        member_start = fh.tell() - len(data)
        dec, held, held_bytes, ended = new_decoder(), [], 0, False
        while not ended:
            if not data and not (data := memoryview(fh.read(READ_BYTES))):
                return Damage(member_start, "file ends inside a compressed member (truncated)")
            try:
                out, data, ended = step(dec, data)
            except errors as exc:
                return Damage(member_start, f"undecodable compressed data: {exc}")
            if out:
                held.append(out)
                held_bytes += len(out)
            if held_bytes > hold:  # too big to hold back: stream it unverified
                yield from held
                held, held_bytes = [], 0
        yield from held


def _next_magic(fh: IO[bytes], offset: int, magic: bytes) -> int | None:
    """File offset of the next `magic` at or after `offset`, or None."""
    fh.seek(offset)
    tail = b""
    while chunk := fh.read(READ_BYTES):
        window = tail + chunk
        found = window.find(magic)
        if found >= 0:
            return offset - len(tail) + found
        offset += len(chunk)
        tail = window[-(len(magic) - 1) :]
    return None
