"""MinHash signatures over word n-grams, a whole batch of documents per NumPy call.

Everything after `str.casefold` is vectorized over the UTF-8 bytes of the batch:
words are runs of bytes that are ASCII letters/digits/underscore or any non-ASCII byte
(so every script's letters count, and ASCII punctuation and whitespace separate words);
each word is hashed by a polynomial over its bytes (`add.reduceat`), word n-grams
(default 5, as in FineWeb-2) are combined from consecutive word hashes, and the
permutations are multiply-add hashes h_i(x) = a_i x + b_i on 64-bit integers, reduced
per document with `minimum.reduceat`; the top 32 bits of each minimum are kept. No
Python code runs per word or per shingle, which is what makes this faster than
per-document libraries. Band hashes (one 64-bit value per LSH band) are what the
global pass needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_PRIME = np.uint64(0x100000001B3)
_MAX_WORD_POWER = 64  # byte positions beyond this reuse powers (long tokens: URLs, hashes)
# Elements of one (permutations x shingles) block; bounds the memory of a batch.
_BLOCK = 1 << 22

_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[[*b"0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]] = True
_WORD_BYTE[0x80:] = True
_POWERS = np.cumprod(np.full(_MAX_WORD_POWER, _PRIME, dtype=np.uint64)) // _PRIME


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads the bits of 64-bit keys (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _M1
        x = x ^ (x >> np.uint64(27))
        x = x * _M2
        return x ^ (x >> np.uint64(31))


def batch_shingles(texts: Sequence[str], n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Word n-gram hashes of every text: (hashes, counts per text), texts in order.

    A text with fewer than n words (but at least one) gets one shingle: all its words.
    Repeated shingles are kept (the minimum does not care).
    """
    encoded = [t.casefold().encode("utf-8", errors="surrogatepass") for t in texts]
    data = np.frombuffer(b" ".join(encoded) + b" ", dtype=np.uint8)
    doc_bytes = np.fromiter((len(e) + 1 for e in encoded), dtype=np.int64, count=len(encoded))
    is_word = _WORD_BYTE[data]
    prev = np.concatenate(([False], is_word[:-1]))
    starts = np.flatnonzero(is_word & ~prev)
    counts = np.zeros(len(texts), dtype=np.int64)
    if len(starts) == 0:
        return np.empty(0, dtype=np.uint64), counts
    word_pos = np.flatnonzero(is_word)
    word_of_byte = np.cumsum(is_word & ~prev)[word_pos] - 1
    offset = word_pos - starts[word_of_byte]
    with np.errstate(over="ignore"):
        weighted = (data[word_pos].astype(np.uint64) + np.uint64(1)) * _POWERS[
            offset % _MAX_WORD_POWER
        ]
        lengths = np.diff(np.append(np.flatnonzero(offset == 0), len(offset)))
        words = mix64(
            np.add.reduceat(weighted, np.flatnonzero(offset == 0)) ^ lengths.astype(np.uint64)
        )
        # Which text each word belongs to (texts are separated by one space byte).
        doc_end = np.cumsum(doc_bytes)
        word_doc = np.searchsorted(doc_end, starts, side="right")
        words_per_doc = np.bincount(word_doc, minlength=len(texts))
        nw = len(words)
        acc = words.copy()
        for k in range(1, n):
            nxt = np.zeros(nw, dtype=np.uint64)
            if k < nw:
                nxt[: nw - k] = words[k:]
            acc = acc * _PRIME + nxt
        acc = mix64(acc)
    first_word = np.concatenate(([0], np.cumsum(words_per_doc)[:-1]))
    # Valid n-gram starts: the n words lie inside one text.
    pos_in_doc = np.arange(nw) - first_word[word_doc]
    valid = pos_in_doc + n <= words_per_doc[word_doc]
    out = acc[valid]
    counts = np.maximum(words_per_doc - n + 1, 0)
    short = np.flatnonzero((words_per_doc > 0) & (words_per_doc < n))
    if len(short):  # rare: rebuild with one shingle of all words for each short text
        pieces, new_counts = [], counts.copy()
        cursor = 0
        for d in range(len(texts)):
            if 0 < words_per_doc[d] < n:
                seg = words[first_word[d] : first_word[d] + words_per_doc[d]]
                h = np.uint64(0)
                with np.errstate(over="ignore"):
                    for w in seg:
                        h = h * _PRIME + w
                pieces.append(mix64(np.array([h], dtype=np.uint64)))
                new_counts[d] = 1
            else:
                pieces.append(out[cursor : cursor + counts[d]])
                cursor += counts[d]
        out = np.concatenate(pieces) if pieces else out
        counts = new_counts
    return out, counts


def shingles(text: str, n: int = 5) -> np.ndarray:
    """Distinct word n-gram hashes of one text."""
    hashes, _ = batch_shingles([text], n)
    return np.unique(hashes)


class MinHasher:
    def __init__(self, num_perm: int = 112, ngram: int = 5, seed: int = 42) -> None:
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.ngram = ngram
        self.a = (rng.integers(0, 2**63, num_perm, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
        self.b = rng.integers(0, 2**63, num_perm, dtype=np.uint64)

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), num_perm) uint32 MinHash signatures; empty texts get all-ones rows."""
        out = np.full((len(texts), self.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        hashes, sizes = batch_shingles(texts, self.ngram)
        nonempty = np.flatnonzero(sizes)
        if not len(nonempty):
            return out
        bounds = np.concatenate(([0], np.cumsum(sizes)))
        step = max(1, _BLOCK // self.num_perm)
        start = 0
        while start < len(nonempty):
            # A block of whole documents with about `step` shingles (at least one document).
            lo = bounds[nonempty[start]]
            stop = int(np.searchsorted(bounds[nonempty + 1], lo + step, side="right"))
            stop = max(stop, start + 1)
            docs = nonempty[start:stop]
            x = hashes[lo : bounds[docs[-1] + 1]]
            offsets = bounds[docs] - lo
            buf = np.empty((self.num_perm, len(x)), dtype=np.uint64)
            with np.errstate(over="ignore"):
                np.multiply(self.a[:, None], x[None, :], out=buf)
                buf += self.b[:, None]
            mins = np.minimum.reduceat(buf, offsets, axis=1)
            out[docs] = (mins >> np.uint64(32)).astype(np.uint32).T
            start = stop
        return out


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: one hash per band of `rows` consecutive signature values."""
    n, width = signatures.shape
    if width < bands * rows:
        raise ValueError(f"signature width {width} < bands x rows = {bands * rows}")
    out = np.empty((n, bands), dtype=np.uint64)
    sig = signatures.astype(np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            h = np.full(n, np.uint64(b + 1) * _PRIME, dtype=np.uint64)
            for r in range(rows):
                h = mix64(h ^ sig[:, b * rows + r])
            out[:, b] = h
    return out
