"""Synthetic token shards in the shards stage's layout: <lang>/00000.bin (+ .idx) and meta.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

EOS = 1


def write_shards(
    root: Path,
    langs: tuple[str, ...] = ("de", "fr"),
    tokens_per_lang: int = 4000,
    vocab_size: int = 64,
    seed: int = 0,
) -> Path:
    """Learnable data: documents that follow a fixed per-language successor rule with 10% noise,
    written with the shards stage's own writer."""
    from openeurollm.shards.writer import ShardWriter

    rng = np.random.default_rng(seed)
    languages = {}
    for li, lang in enumerate(langs):
        total = 0
        with ShardWriter(root, lang, "uint16", max_tokens=tokens_per_lang // 2) as writer:
            while total < tokens_per_lang:
                length = int(rng.integers(20, 60))
                doc = np.empty(length + 1, dtype=np.int64)
                doc[0] = rng.integers(2, vocab_size)
                for i in range(1, length):
                    nxt = (doc[i - 1] * 5 + 3 + li) % (vocab_size - 2) + 2
                    doc[i] = nxt if rng.random() > 0.1 else rng.integers(2, vocab_size)
                doc[length] = EOS
                writer.add(doc)
                total += length + 1
        shards = writer.shards
        languages[lang] = {
            "docs": sum(s.docs for s in shards),
            "files": [s.path for s in shards],
            "tokens": sum(s.tokens for s in shards),
        }
    meta = {
        "dtype": "uint16",
        "vocab_size": vocab_size,
        "bos_id": 0,
        "eos_id": EOS,
        "languages": languages,
        "total_tokens": sum(v["tokens"] for v in languages.values()),
    }
    (root / "meta.json").write_text(json.dumps(meta))
    return root


TINY_MODEL = dict(vocab_size=64, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64, qk_norm=True)  # fmt: skip


def tiny_job(root: Path, model: dict | None = None, **train: object):  # -> Job
    """A job over fresh synthetic shards under `root`, with a tiny model and short training."""
    from openeurollm.config import TrainConfig
    from openeurollm.train.job import Job

    shards = root / "shards"
    if not (shards / "meta.json").exists():
        write_shards(shards)
    settings = dict(
        steps=8, batch_size=8, seq_len=32, lr=1e-2, warmup_steps=2, log_every=1,
        checkpoint_every=4, threads=1,
    )  # fmt: skip
    settings.update(train)
    return Job(
        model={**TINY_MODEL, **(model or {})},
        train=TrainConfig(**settings).model_dump(mode="json"),
        seed=1,
        shards=str(shards),
        out=str(root / "train"),
        flavor="tiny",
    )


def losses(train_dir: Path) -> list[float]:
    rows = [json.loads(line) for line in (train_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in rows]
