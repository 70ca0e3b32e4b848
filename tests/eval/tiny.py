"""Tiny real objects for eval/release tests: a byte-level BPE tokenizer and a small model."""

from __future__ import annotations

import random
from pathlib import Path

import torch

from openeurollm.model.args import ModelArgs
from openeurollm.model.llama import Transformer
from openeurollm.tokenizer.train import save_tokenizer, special_tokens, train_bpe

WORDS = {
    "en": [
        "the",
        "house",
        "is",
        "small",
        "and",
        "the",
        "garden",
        "is",
        "green",
        "we",
        "walk",
        "to",
        "the",
        "river",
        "every",
        "day",
    ],
    "de": [
        "das",
        "haus",
        "ist",
        "klein",
        "und",
        "der",
        "garten",
        "ist",
        "grün",
        "wir",
        "gehen",
        "jeden",
        "tag",
        "zum",
        "fluss",
    ],
    "fr": [
        "la",
        "maison",
        "est",
        "petite",
        "et",
        "le",
        "jardin",
        "est",
        "vert",
        "nous",
        "allons",
        "à",
        "la",
        "rivière",
        "chaque",
        "jour",
    ],
    "pl": [
        "dom",
        "jest",
        "mały",
        "a",
        "ogród",
        "jest",
        "zielony",
        "codziennie",
        "chodzimy",
        "nad",
        "rzekę",
    ],
    "el": [
        "το",
        "σπίτι",
        "είναι",
        "μικρό",
        "και",
        "ο",
        "κήπος",
        "είναι",
        "πράσινος",
        "πηγαίνουμε",
        "στο",
        "ποτάμι",
    ],
}


def synthetic_texts(lang: str, n: int, seed: int = 0) -> list[str]:
    rng = random.Random(f"{seed}/{lang}")
    words = WORDS[lang]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(8, 40))) + "." for _ in range(n)]


def tiny_tokenizer(path: Path, vocab_size: int = 400, texts: list[str] | None = None) -> Path:
    if texts is None:
        texts = [t for lang in WORDS for t in synthetic_texts(lang, 40)]
    tok = train_bpe(texts, vocab_size, special_tokens(4), min_frequency=2)
    save_tokenizer(tok, path)
    return path


def tiny_model(
    vocab_size: int, qk_norm: bool = True, tie: bool = True, seed: int = 0
) -> Transformer:
    torch.manual_seed(seed)
    args = ModelArgs(
        vocab_size=vocab_size, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=128,
        qk_norm=qk_norm, tie_embeddings=tie, max_seq_len=256,
    )  # fmt: skip
    return Transformer(args).eval()


def train_tiny(model: Transformer, token_lists: list[list[int]], eos_id: int, steps: int = 60,
               seq_len: int = 64, batch: int = 16, seed: int = 0) -> Transformer:  # fmt: skip
    """A few AdamW steps of next-token prediction on a stream of documents."""
    stream = [t for ids in token_lists for t in (*ids, eos_id)]
    data = torch.tensor(stream)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    model.train()
    for _ in range(steps):
        starts = torch.randint(0, len(data) - seq_len - 1, (batch,), generator=gen)
        x = torch.stack([data[s : s + seq_len] for s in starts])
        y = torch.stack([data[s + 1 : s + seq_len + 1] for s in starts])
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()
