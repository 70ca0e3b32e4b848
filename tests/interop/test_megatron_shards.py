"""Our token shards are Megatron-Core indexed datasets, read by megatron-core itself; shards
megatron-core writes are read and trained on by us."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from openeurollm.data.docstore import read_documents
from openeurollm.shards.reader import ShardFile, ShardSet
from openeurollm.shards.writer import ShardWriter
from openeurollm.tokenizer.encoder import TextTokenizer
from openeurollm.train.data import TokenWindows

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "Apex is not installed" and the like
    from megatron.core.datasets.indexed_dataset import IndexedDataset, IndexedDatasetBuilder


def test_megatron_reads_every_shard_of_a_run_as_our_documents(small_run) -> None:
    shards_dir = small_run.run_dir / "shards"
    meta = json.loads((shards_dir / "meta.json").read_text())
    tok = TextTokenizer.from_file(small_run.run_dir / "tokenizer" / "tokenizer.json")
    lineage_rows = 0
    for lang, info in meta["languages"].items():
        mix = small_run.run_dir / "mix" / "train" / f"{lang}.parquet"
        expected = [
            [*ids, tok.eos_id] for ids in tok.encode_batch([d.text for d in read_documents(mix)])
        ]
        theirs: list[list[int]] = []
        for rel in info["files"]:
            dataset = IndexedDataset(str(shards_dir / rel).removesuffix(".bin"))
            assert dataset.index.dtype == np.dtype(meta["dtype"])
            assert len(dataset.document_indices) == len(dataset) + 1
            theirs.extend(dataset[i].tolist() for i in range(len(dataset)))
        assert theirs == expected, lang
        lineage_rows += len(expected)
    assert lineage_rows == meta["total_docs"]


@pytest.mark.parametrize("dtype", ["uint16", "int32"])
def test_our_files_are_byte_identical_to_megatrons(tmp_path: Path, dtype: str) -> None:
    rng = np.random.default_rng(1)
    docs = [rng.integers(0, 60_000, size=int(n)).tolist() for n in rng.integers(1, 50, 30)]
    with ShardWriter(tmp_path, "ours", dtype, max_tokens=10**6) as writer:
        for doc in docs:
            writer.add(doc)
    builder = IndexedDatasetBuilder(str(tmp_path / "theirs.bin"), dtype=np.dtype(dtype).type)
    for doc in docs:
        builder.add_document(torch.tensor(doc), [len(doc)])
    builder.finalize(str(tmp_path / "theirs.idx"))
    for suffix in (".bin", ".idx"):
        ours = (tmp_path / "ours" / f"00000{suffix}").read_bytes()
        assert ours == (tmp_path / f"theirs{suffix}").read_bytes(), suffix


def _megatron_built(folder: Path, vocab: int) -> list[list[int]]:
    """Documents of a learnable rule, written by megatron-core's builder as Megatron's
    preprocess_data.py does: one prefix per "language", uint16 and int32 token files."""
    rng = np.random.default_rng(3)
    docs = []
    for _ in range(120):
        doc = [int(rng.integers(2, vocab))]
        for _ in range(int(rng.integers(10, 40))):
            doc.append((doc[-1] * 5 + 3) % (vocab - 2) + 2)
        docs.append([*doc, 1])
    for prefix, dtype, part in (("aa/train_text_document", np.uint16, docs[:60]),
                                ("bb_text_document", np.int32, docs[60:])):  # fmt: skip
        path = folder / prefix
        path.parent.mkdir(parents=True, exist_ok=True)
        builder = IndexedDatasetBuilder(f"{path}.bin", dtype=dtype)
        for doc in part:
            builder.add_document(torch.tensor(doc), [len(doc)])
        builder.finalize(f"{path}.idx")
    return docs


def test_megatron_built_shards_feed_our_trainer(tmp_path: Path) -> None:
    from openeurollm.config import TrainConfig
    from openeurollm.train.job import Job
    from openeurollm.train.loop import train

    folder = tmp_path / "megatron-data"
    docs = _megatron_built(folder, vocab=48)
    shards = ShardSet(folder)  # no meta.json: the folder describes itself
    assert shards.languages == ["aa", "bb_text_document"]  # subfolder, or file prefix
    assert [d.tolist() for d in shards.documents()] == docs
    assert ShardFile(folder / "bb_text_document.bin").dtype == "int32"

    windows = TokenWindows(folder, seq_len=16)
    assert windows.vocab_size == 1 + max(max(d) for d in docs)
    flat = [t for d in docs for t in d]
    assert windows.read(100).tolist() == flat[100:117]

    job = Job(
        model=dict(vocab_size=48, dim=32, n_layers=1, n_heads=2, n_kv_heads=1, ffn_dim=64),
        train=TrainConfig(
            steps=4,
            batch_size=4,
            seq_len=16,
            warmup_steps=1,
            log_every=1,
            checkpoint_every=4,
            threads=1,
        ).model_dump(mode="json"),
        seed=1,
        shards=str(folder),
        out=str(tmp_path / "train"),
    )
    summary = train(job)
    assert summary["tokens_seen"] == 4 * 4 * 16
    assert set(summary["tokens_per_language"]) <= {"aa", "bb_text_document"}
    assert np.isfinite(summary["final_loss"])
