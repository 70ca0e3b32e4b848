"""`TextTokenizer`: the one object the project encodes and decodes with.

A thin layer over a `tokenizers.Tokenizer`: no special tokens are added implicitly (callers
append eos/bos where the data format wants them), batches go to the Rust side in one call.

Text that happens to contain "<|eos|>" is encoded as ordinary characters, never as the
special token: a web page must not be able to inject document boundaries or chat turns.
`tokenizers` does not store this switch in tokenizer.json, so it is set here on load (and the
release's tokenizer_config.json sets `split_special_tokens` for transformers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from openeurollm.tokenizer.train import BOS, EOS, PAD


class TextTokenizer:
    def __init__(self, tokenizer: Tokenizer) -> None:
        self.backend = tokenizer
        tokenizer.encode_special_tokens = True
        self.vocab_size: int = tokenizer.get_vocab_size(with_added_tokens=True)
        self.bos_id = self._special(BOS)
        self.eos_id = self._special(EOS)
        self.pad_id = self._special(PAD)

    @classmethod
    def from_file(cls, path: str | Path) -> TextTokenizer:
        return cls(Tokenizer.from_file(str(path)))

    def _special(self, token: str) -> int:
        idx = self.backend.token_to_id(token)
        if idx is None:
            raise ValueError(f"tokenizer has no {token} token")
        return idx

    def encode(self, text: str) -> list[int]:
        return self.backend.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        # Plain encode_batch: in tokenizers 0.23 encode_batch_fast (no offsets) measured slower.
        encodings = self.backend.encode_batch(
            texts if isinstance(texts, list) else list(texts), add_special_tokens=False
        )
        return [e.ids for e in encodings]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text (for fertility and parity)."""
        return [len(e) for e in self.encode_batch(texts)]
