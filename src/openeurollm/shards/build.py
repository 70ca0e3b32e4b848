"""Tokenize one language's mix file into shards plus its lineage (a task: one per language)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openeurollm.data.docstore import read_documents
from openeurollm.data.document import Document, normalized_hash
from openeurollm.io.progress import progress
from openeurollm.shards.lineage import LineageWriter
from openeurollm.shards.writer import ShardWriter
from openeurollm.tokenizer.encoder import TextTokenizer

log = logging.getLogger("openeurollm")
BATCH_DOCS = 512


def _batches(docs: Iterator[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def shard_language(
    mix_file: str,
    tokenizer_path: str,
    out_dir: str,
    lineage_path: str,
    lang: str,
    dtype: str,
    max_tokens_per_file: int,
) -> dict[str, Any]:
    """Encode every document of `mix_file`, eos after each, into `out_dir/<lang>/NNNNN.bin`."""
    tok = TextTokenizer.from_file(tokenizer_path)
    eos = tok.eos_id
    start_time = time.monotonic()
    docs = tokens = 0
    with (
        ShardWriter(Path(out_dir), lang, dtype, max_tokens_per_file) as writer,
        LineageWriter(Path(lineage_path)) as lineage,
    ):
        batches = _batches(read_documents(Path(mix_file)), BATCH_DOCS)
        for batch in progress(batches, desc=f"shards {lang}", unit="batch"):
            for doc, ids in zip(batch, tok.encode_batch([d.text for d in batch]), strict=True):
                ids.append(eos)
                shard, start, end = writer.add(ids)
                lineage.add(
                    lang=lang,
                    shard=shard,
                    start=start,
                    end=end,
                    doc_id=doc.id,
                    url=doc.source,
                    hash=normalized_hash(doc.text),
                    unmasked_hash=str(doc.meta.get("unmasked_hash", "")),
                )
                docs += 1
                tokens += len(ids)
    seconds = time.monotonic() - start_time
    log.info(
        "shards %s: %d documents, %d tokens, %d files (%.0f tokens/s)",
        lang,
        docs,
        tokens,
        len(writer.shards),
        tokens / seconds if seconds > 0 else 0.0,
    )
    return {
        "lang": lang,
        "docs": docs,
        "tokens": tokens,
        "files": [vars(s) for s in writer.shards],
    }
