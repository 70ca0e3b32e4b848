"""Training batches from the token shards: windows of seq_len+1 tokens at seeded random offsets.

The order is a pure function of (seed, step), identical on every rank, so the data position
of a run is just its step: resuming, or changing the number of ranks, replays the same batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openeurollm.shards.reader import ShardSet


class TokenWindows:
    """All shard files of a shards folder (language order, then file order) as one stream.
    The folder is a shards stage's output or any folder of Megatron `.bin`/`.idx` pairs."""

    def __init__(self, shards_dir: Path, seq_len: int) -> None:
        shards = ShardSet(Path(shards_dir))
        self.meta_sha256 = shards.fingerprint()
        self.langs = shards.languages
        self.tokens: list[np.ndarray] = []
        file_lang = []
        for li, lang in enumerate(self.langs):
            for shard in shards.files(lang):
                if shard.num_tokens:
                    self.tokens.append(shard.tokens)
                    file_lang.append(li)
        self._file_lang = np.array(file_lang, dtype=np.int64)
        # Shards made elsewhere carry no vocabulary size: the largest id decides what the
        # model's embedding must hold (one pass over the memmaps, at start-up only).
        self.vocab_size = shards.vocab_size
        if self.vocab_size is None and self.tokens:
            self.vocab_size = 1 + max(int(t.max()) for t in self.tokens)
        sizes = np.array([len(t) for t in self.tokens], dtype=np.int64)
        self.offsets = np.concatenate(([0], np.cumsum(sizes)))
        self.total = int(self.offsets[-1])
        self.window = seq_len + 1
        if self.total < self.window:
            raise ValueError(
                f"the shards in {shards_dir} hold {self.total} tokens, fewer than one training "
                f"window of {self.window} (seq_len + 1)"
            )

    def starts(self, seed: int, step: int, count: int) -> np.ndarray:
        """The `count` window starts of optimizer step `step` (all ranks, all micro-batches)."""
        rng = np.random.default_rng([seed, step])
        return rng.integers(0, self.total - self.window + 1, size=count, dtype=np.int64)

    def read(self, start: int) -> np.ndarray:
        """One window, crossing file boundaries when it has to."""
        out = np.empty(self.window, dtype=np.int64)
        pos, filled = start, 0
        i = int(np.searchsorted(self.offsets, start, side="right") - 1)
        while filled < self.window:
            local = pos - int(self.offsets[i])
            take = min(self.window - filled, len(self.tokens[i]) - local)
            out[filled : filled + take] = self.tokens[i][local : local + take]
            filled, pos, i = filled + take, pos + take, i + 1
        return out

    def batch(self, starts: np.ndarray) -> np.ndarray:
        return np.stack([self.read(int(s)) for s in starts])

    def lang_counts(self, starts: np.ndarray) -> np.ndarray:
        """Tokens per language (index into self.langs) that these windows start in, x window."""
        file_idx = np.searchsorted(self.offsets, starts, side="right") - 1
        return np.bincount(self._file_lang[file_idx], minlength=len(self.langs)) * (self.window - 1)
