"""Token shards: flat binary token files with document offsets, and the lineage of every range.

On-disk format (one pair per shard file, under `shards/<lang>/`): Megatron-Core's indexed
dataset, so Megatron-LM trains on the prefix `shards/<lang>/NNNNN` as it is, and folders of
pairs that Megatron's `preprocess_data.py` wrote are read back (`ShardSet` without meta.json).

- `NNNNN.bin`: the token ids of consecutive documents, each followed by the eos id, as raw
  little-endian integers, `uint16` when the vocabulary has at most 65,536 ids, else `int32`
  (Megatron names no uint32). `np.memmap` reads it without copying.
- `NNNNN.idx`: `MMIDIDX\x00\x00`, version 1, the dtype code, then per document one sequence
  length (int32) and byte pointer (int64), then the document indices `0..n_docs`
  (layout in `shards.mmidx`). No pickle, no npy header. Readers check that pointers follow
  the lengths and that the file sizes agree with them.
- `shards/meta.json`: dtype, vocab size, eos id, tokens / documents / files per language,
  total tokens and the sha256 of every shard file.
- `shards/lineage.parquet`: one row per document occurrence: lang, shard (path relative to
  `shards/`), start, end (token range in that shard, eos included), doc_id, url, and the
  normalized-content hash the release's membership index is built from.
"""

from openeurollm.shards.mmidx import read_index, write_index
from openeurollm.shards.reader import ShardFile, ShardSet, read_offsets
from openeurollm.shards.writer import choose_dtype

__all__ = [
    "ShardFile",
    "ShardSet",
    "choose_dtype",
    "read_index",
    "read_offsets",
    "write_index",
]
