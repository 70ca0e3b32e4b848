"""Shards: writer/reader round trip, dtype choice, the stage end to end with its lineage."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from openeurollm.data.docstore import read_documents
from openeurollm.data.document import normalized_hash
from openeurollm.errors import StageError
from openeurollm.io.fileio import file_sha256
from openeurollm.pipeline.stage import StageContext
from openeurollm.pipeline.stages.shards import ShardsStage
from openeurollm.shards.reader import ShardFile, ShardSet, read_offsets
from openeurollm.shards.writer import ShardWriter, choose_dtype
from openeurollm.tokenizer.encoder import TextTokenizer

from ..tokenizer.corpus import run_tokenizer_stage, small_recipe


def test_choose_dtype() -> None:
    assert choose_dtype(8000) == "uint16"
    assert choose_dtype(65536) == "uint16"  # ids 0..65535 fit
    assert choose_dtype(65537) == "int32"  # Megatron's index has no uint32
    assert choose_dtype(8000, "int32") == "int32"
    with pytest.raises(ValueError, match="does not fit uint16"):
        choose_dtype(128_000, "uint16")


@pytest.mark.parametrize("dtype,high", [("uint16", 65535), ("int32", 200_000)])
def test_writer_reader_round_trip(tmp_path: Path, dtype: str, high: int) -> None:
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, high + 1, size=int(n)).tolist() for n in rng.integers(1, 40, 60)]
    docs[3] = [high, 0, high]  # the largest id survives
    with ShardWriter(tmp_path, "xx", dtype, max_tokens=200) as writer:
        places = [writer.add(d) for d in docs]
    shards = writer.shards
    assert len(shards) > 1  # rolled over to new files
    assert all(s.tokens <= 200 for s in shards)
    assert sum(s.docs for s in shards) == len(docs)
    files = {s.path: ShardFile(tmp_path / s.path, dtype) for s in shards}
    for doc, (rel, start, end) in zip(docs, places, strict=True):
        shard = files[rel]
        assert shard.tokens[start:end].tolist() == doc
    itemsize = np.dtype(dtype).itemsize
    for s in shards:
        assert (tmp_path / s.path).stat().st_size == s.tokens * itemsize
        assert file_sha256(tmp_path / s.path) == s.sha256
    assert not list(tmp_path.rglob(".tmp-*"))


def test_damaged_index_is_reported(tmp_path: Path) -> None:
    with ShardWriter(tmp_path, "xx", "uint16", max_tokens=100) as writer:
        writer.add([1, 2, 3])
    idx = tmp_path / "xx" / "00000.idx"
    assert read_offsets(idx).tolist() == [0, 3]
    good = idx.read_bytes()
    idx.write_bytes(good[:-4])
    with pytest.raises(StageError, match="truncated"):
        read_offsets(idx)
    idx.write_bytes(b"PICKLE!!!" + good[9:])
    with pytest.raises(StageError, match="bad magic"):
        read_offsets(idx)
    pointer_at = 9 + 8 + 1 + 8 + 8 + 4  # the first (only) sequence pointer
    idx.write_bytes(good[:pointer_at] + (2).to_bytes(8, "little") + good[pointer_at + 8 :])
    with pytest.raises(StageError, match="pointers"):
        read_offsets(idx)
    with pytest.raises(ValueError, match="no code in Megatron"):
        ShardWriter(tmp_path, "yy", "uint32", max_tokens=100)


def test_shards_stage_round_trip_and_lineage(tmp_path: Path) -> None:
    langs = ["de", "el", "en", "ga"]
    run_tokenizer_stage(tmp_path, langs)
    recipe = small_recipe(tmp_path)
    recipe.shards.max_tokens_per_file = 1000  # force several files per language
    run_dir = recipe.run_dir
    ctx = StageContext(
        recipe=recipe, run_dir=run_dir, out=run_dir / "shards", key="k2", resume=False
    )
    record = ShardsStage().run(ctx)

    out = run_dir / "shards"
    meta = json.loads((out / "meta.json").read_text())
    tok = TextTokenizer.from_file(run_dir / "tokenizer" / "tokenizer.json")
    assert meta["dtype"] == record["dtype"] == "uint16"
    assert meta["eos_id"] == tok.eos_id
    assert (
        record["total_tokens"]
        == meta["total_tokens"]
        == sum(record["tokens_per_language"].values())
    )
    assert sum(p.stat().st_size for p in out.rglob("*.bin")) == 2 * meta["total_tokens"]
    for rel, digest in meta["sha256"].items():
        assert file_sha256(out / rel) == digest
    assert any(len(v["files"]) > 1 for v in meta["languages"].values())

    shards = ShardSet(out)
    assert shards.languages == langs
    for lang in langs:
        texts = [d.text for d in read_documents(run_dir / "mix" / "train" / f"{lang}.parquet")]
        decoded = []
        for doc in shards.documents(lang):
            assert int(doc[-1]) == tok.eos_id
            decoded.append(tok.decode(doc[:-1].tolist()))
        assert decoded == texts

    # Lineage: per shard file, the ranges tile [0, n_tokens) exactly, in order.
    lineage = pq.read_table(out / "lineage.parquet").to_pylist()
    assert len(lineage) == record["docs"]
    by_shard: dict[str, list[dict]] = {}
    for row in lineage:
        by_shard.setdefault(row["shard"], []).append(row)
    assert set(by_shard) == set(meta["sha256"])
    for rel, rows in by_shard.items():
        n_tokens = ShardFile(out / rel, meta["dtype"]).num_tokens
        edges = [(r["start"], r["end"]) for r in rows]
        assert edges[0][0] == 0 and edges[-1][1] == n_tokens
        assert all(a[1] == b[0] for a, b in itertools.pairwise(edges))
    docs = {
        d.id: d
        for lang in langs
        for d in read_documents(run_dir / "mix" / "train" / f"{lang}.parquet")
    }
    for row in lineage:
        doc = docs[row["doc_id"]]
        assert row["hash"] == normalized_hash(doc.text)
        assert row["url"] == doc.source and row["lang"] == doc.lang
