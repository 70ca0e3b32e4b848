"""Tokenizer training: exact round trips in every language, determinism, pre-tokenization, specials."""

from __future__ import annotations

import unicodedata
from functools import partial
from pathlib import Path

import pytest

from openeurollm import EU_LANGUAGES
from openeurollm.tokenizer.encoder import TextTokenizer
from openeurollm.tokenizer.train import (
    BOS,
    EOS,
    PAD,
    empty_tokenizer,
    save_tokenizer,
    special_tokens,
    train_tokenizer,
)

from .corpus import PHRASES, documents


def _sources(langs: list[str], n: int = 30) -> dict:
    return {lang: partial(documents, lang, n) for lang in langs}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def udhr_tokenizer(request: pytest.FixtureRequest) -> TextTokenizer:
    shared = request.getfixturevalue("shared_data")
    sources = {lang: partial(_lines, shared / "udhr" / f"{lang}.txt") for lang in EU_LANGUAGES}
    return TextTokenizer(train_tokenizer(sources, 2000).tokenizer)


@pytest.fixture(scope="module")
def shared_data() -> Path:
    from ..conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared multilingual data not found at {SHARED_DATA}")
    return SHARED_DATA


def test_round_trip_every_language(udhr_tokenizer: TextTokenizer, shared_data: Path) -> None:
    # The normalizer applies NFC (one German NTREX line has a decomposed umlaut), so the
    # round trip is exact up to NFC, and exact for text that is already NFC.
    for lang in EU_LANGUAGES:
        udhr = (shared_data / "udhr" / f"{lang}.txt").read_text(encoding="utf-8")
        ids = udhr_tokenizer.encode(udhr)  # whole file: newlines and paragraph breaks too
        assert udhr_tokenizer.decode(ids) == unicodedata.normalize("NFC", udhr), lang
        assert max(ids) < udhr_tokenizer.vocab_size
        lines = _lines(shared_data / "ntrex" / f"{lang}.txt")
        for line, ids in zip(lines, udhr_tokenizer.encode_batch(lines), strict=True):
            assert udhr_tokenizer.decode(ids) == unicodedata.normalize("NFC", line), lang


def test_irish_and_maltese_letters_round_trip(udhr_tokenizer: TextTokenizer) -> None:
    text = "Ġużeppi ħabib, żgħir għal ċaqċaq; Seán Ó Súilleabháin, ÁÉÍÓÚ áéíóú ĦĠŻĊ"
    assert udhr_tokenizer.decode(udhr_tokenizer.encode(text)) == text
    for lang in ("ga", "mt"):
        for phrase in PHRASES[lang]:
            assert udhr_tokenizer.decode(udhr_tokenizer.encode(phrase)) == phrase


def test_training_is_deterministic(tmp_path: Path) -> None:
    langs = ["en", "de", "el", "bg"]
    paths = []
    for i in range(2):
        result = train_tokenizer(_sources(langs), 600, min_frequency=1)
        path = tmp_path / f"tok{i}.json"
        save_tokenizer(result.tokenizer, path)
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_vocab_and_special_tokens() -> None:
    result = train_tokenizer(
        _sources(list(PHRASES)), 600, reserved_special_tokens=6, min_frequency=1
    )
    tok = TextTokenizer(result.tokenizer)
    assert tok.vocab_size == 600
    specials = special_tokens(6)
    assert specials[:3] == [BOS, EOS, PAD] and len(specials) == 9
    assert [result.tokenizer.token_to_id(s) for s in specials] == list(range(9))
    assert (tok.bos_id, tok.eos_id, tok.pad_id) == (0, 1, 2)
    # Special tokens are never produced from plain text, and encode adds none implicitly.
    ids = tok.encode("The weather <|eos|>")
    assert tok.eos_id not in ids
    assert tok.decode(ids) == "The weather <|eos|>"
    assert special_tokens(0) == [BOS, EOS, PAD]
    assert special_tokens(10)[-1] == "<|reserved_9|>"


def test_pretokenizer_keeps_words_of_every_script_and_splits_digits() -> None:
    pre = empty_tokenizer().pre_tokenizer
    assert pre is not None
    pieces = [p for p, _ in pre.pre_tokenize_str("Αθήνα и София 2024, Łódź  go")]
    # Byte-level symbols: Ġ is the space byte. Each word keeps its leading space.
    decoded = [bytes(_byte_decoder()[c] for c in p).decode("utf-8") for p in pieces]
    assert decoded == ["Αθήνα", " и", " София", " ", "2", "0", "2", "4", ",", " Łódź", " ", " go"]


def _byte_decoder() -> dict[str, int]:
    from tokenizers.pre_tokenizers import ByteLevel

    # ByteLevel.alphabet() is unordered; rebuild GPT-2's byte -> symbol table to invert it.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = {chr(c): b for b, c in zip(bs, cs, strict=True)}
    assert set(table) == set(ByteLevel.alphabet())
    return table


def test_encode_batch_matches_encode() -> None:
    tok = TextTokenizer(train_tokenizer(_sources(list(PHRASES)), 500, min_frequency=1).tokenizer)
    texts = [t for lang in PHRASES for t in documents(lang, 3)]
    assert tok.encode_batch(texts) == [tok.encode(t) for t in texts]
    assert tok.count(texts) == [len(tok.encode(t)) for t in texts]
