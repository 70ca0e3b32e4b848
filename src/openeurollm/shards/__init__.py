"""Token shards: flat binary token files with document offsets, and the lineage of every range.

On-disk format (one pair per shard file, under `shards/<lang>/`):

- `NNNNN.bin`: the token ids of consecutive documents, each followed by the eos id, as raw
  little-endian unsigned integers, `uint16` when the vocabulary has fewer than 65,536 ids,
  else `uint32` (the dtype is in `shards/meta.json`). `np.memmap` reads it without copying.
- `NNNNN.idx`: 8 bytes magic `OELIDX01`, then a little-endian uint64 `n_docs`, then
  `n_docs + 1` little-endian int64 token offsets: document i is tokens
  `[offsets[i], offsets[i+1])` of the .bin file, its eos included. `offsets[0] == 0` and
  `offsets[-1]` equals the number of tokens in the .bin file. No pickle, no npy header.
- `shards/meta.json`: dtype, vocab size, eos id, tokens / documents / files per language,
  total tokens and the sha256 of every shard file.
- `shards/lineage.parquet`: one row per document occurrence: lang, shard (path relative to
  `shards/`), start, end (token range in that shard, eos included), doc_id, url, and the
  normalized-content hash the release's membership index is built from.
"""

from openeurollm.shards.reader import ShardFile, ShardSet, read_offsets
from openeurollm.shards.writer import choose_dtype

__all__ = ["ShardFile", "ShardSet", "choose_dtype", "read_offsets"]
