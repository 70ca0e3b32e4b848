"""Byte-level BPE with Hugging Face `tokenizers`: the tokenizer's pipeline and its training.

Pipeline: NFC normalization; pre-tokenization by one regex that keeps a word of any
alphabetic script (Latin, Greek, Cyrillic, with combining marks) together with its leading
space, isolates every digit, groups punctuation, and keeps whitespace runs apart from the
word that follows; then bytes are mapped to the 256 byte-level symbols, so every string
encodes and decodes back exactly (after NFC) with no unknown token.

Training is deterministic: the sample is chosen by content hashes, the trainer gets texts in a
fixed order, and `tokenizers`' BPE trainer breaks ties between equally frequent pairs by the
pair itself. Same input, same recipe: byte-identical tokenizer.json.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from openeurollm.io.fileio import atomic_path
from openeurollm.tokenizer.sampling import (
    TextSource,
    byte_budgets,
    language_shares,
    measure_sizes,
    sample_texts,
)

log = logging.getLogger("openeurollm")

BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"
# Reserved for chat fine-tuning, so a later chat model keeps this vocabulary.
CHAT_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|end_of_turn|>")

# \p{L}\p{M}: letters of every script with their combining marks (NFC leaves some, e.g.
# in Latvian or Lithuanian loan spellings). Digits one by one, so numbers tokenize the same
# way in every language. Whitespace before a word stays with it; other runs stay together.
PRETOKENIZE_PATTERN = (
    r" ?[\p{L}\p{M}]+"
    r"|\p{N}"
    r"| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+"
)


def special_tokens(reserved: int) -> list[str]:
    """bos, eos, pad, then `reserved` tokens for chat (named ones first, then numbered)."""
    extra = list(CHAT_TOKENS[:reserved])
    extra += [f"<|reserved_{i}|>" for i in range(len(extra), reserved)]
    return [BOS, EOS, PAD, *extra]


def empty_tokenizer(model: models.Model | None = None) -> Tokenizer:
    """The pipeline around a BPE model (untrained unless `model` is given)."""
    tok = Tokenizer(model if model is not None else models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    return tok


def train_bpe(
    texts: Iterable[str], vocab_size: int, specials: list[str], min_frequency: int = 2
) -> Tokenizer:
    """Plain byte-level BPE on a stream of texts (the stream is consumed once)."""
    tok = empty_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


@dataclass
class TrainResult:
    tokenizer: Tokenizer
    sizes: dict[str, int]  # bytes available per language
    sample_bytes: dict[str, float]  # bytes per language in the training sample
    weights: dict[str, float]  # final per-language weights (1.0 unless parity rounds moved them)
    rounds: list[dict[str, Any]] = field(default_factory=list)  # parity per round, when used


def sample_plan(
    sizes: Mapping[str, int],
    balance: str,
    temperature: float,
    max_bytes_per_language: int,
    weights: Mapping[str, float] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """(bytes per language, epochs per language) of the training sample."""
    shares = language_shares(sizes, balance, temperature)
    if weights:
        shares = {lang: s * weights.get(lang, 1.0) for lang, s in shares.items()}
    target = byte_budgets(sizes, shares, max_bytes_per_language)
    epochs = {lang: (target[lang] / sizes[lang] if sizes[lang] else 0.0) for lang in sizes}
    return target, epochs


def train_tokenizer(
    sources: Mapping[str, TextSource],
    vocab_size: int,
    *,
    reserved_special_tokens: int = 8,
    min_frequency: int = 2,
    balance: str = "uniform",
    temperature: float = 3.0,
    max_bytes_per_language: int = 20_000_000,
    weights: Mapping[str, float] | None = None,
) -> TrainResult:
    """Train on a language-balanced sample of `sources` (lang -> re-readable text stream)."""
    sizes = measure_sizes(sources)
    target, epochs = sample_plan(sizes, balance, temperature, max_bytes_per_language, weights)
    specials = special_tokens(reserved_special_tokens)
    tok = train_bpe(sample_texts(sources, epochs), vocab_size, specials, min_frequency)
    return TrainResult(
        tokenizer=tok,
        sizes=sizes,
        sample_bytes={lang: round(b, 1) for lang, b in target.items()},
        weights={lang: float((weights or {}).get(lang, 1.0)) for lang in sorted(sizes)},
    )


def save_tokenizer(tok: Tokenizer, path: Path) -> None:
    """Write tokenizer.json atomically (`tokenizers` orders the vocabulary by id: stable bytes)."""
    with atomic_path(Path(path)) as tmp:
        tok.save(str(tmp), pretty=True)
