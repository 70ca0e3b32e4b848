"""shards: mix/train + tokenizer -> <lang>/NNNNN.bin/.idx, lineage.parquet, meta.json.

The .bin/.idx pairs are Megatron-Core indexed datasets: Megatron-LM trains on
`shards/<lang>/NNNNN` prefixes as they are (`openeurollm export megatron` writes the blend).

One task per language (resumable, parallel under any executor). Each task writes its
language's shard files and a lineage part under `.stage-lineage/` (scratch, outside the
digest); the stage then merges the parts into `lineage.parquet` and writes `meta.json`.
"""

from __future__ import annotations

from typing import Any

from openeurollm.config import Recipe
from openeurollm.errors import RecipeError, StageError
from openeurollm.io.fileio import write_json
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.pipeline.tasks import Task, run_tasks
from openeurollm.records.shards import ShardsRecord
from openeurollm.shards.lineage import merge_lineage
from openeurollm.shards.writer import choose_dtype
from openeurollm.tokenizer.encoder import TextTokenizer

PARTS = ".stage-lineage"


@STAGES.register("shards")
class ShardsStage(Stage):
    name = "shards"
    after = ("mix", "tokenizer")
    version = 2  # 2: Megatron-Core .idx (MMIDIDX) instead of OELIDX01; int32 for large vocabularies

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"shards": recipe.shards.model_dump(mode="json")}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.recipe.shards
        tok_path = ctx.input("tokenizer") / "tokenizer.json"
        tok = TextTokenizer.from_file(tok_path)
        try:
            dtype = choose_dtype(tok.vocab_size, cfg.dtype)
        except ValueError as exc:
            raise RecipeError(f"shards.dtype: {exc}") from None

        mix_files = sorted(
            p for p in (ctx.input("mix") / "train").glob("*.parquet") if not p.name.startswith(".")
        )
        tasks = [
            Task(
                name=path.stem,
                fn="openeurollm.shards.build:shard_language",
                args={
                    "mix_file": str(path),
                    "tokenizer_path": str(tok_path),
                    "out_dir": str(ctx.out),
                    "lineage_path": str(ctx.out / PARTS / f"{path.stem}.parquet"),
                    "lang": path.stem,
                    "dtype": dtype,
                    "max_tokens_per_file": cfg.max_tokens_per_file,
                },
            )
            for path in mix_files
        ]
        results = run_tasks(ctx, tasks, desc="shards")
        rows = merge_lineage(
            [ctx.out / PARTS / f"{p.stem}.parquet" for p in mix_files], ctx.out / "lineage.parquet"
        )

        languages = {
            r["lang"]: {
                "tokens": r["tokens"],
                "docs": r["docs"],
                "files": [f["path"] for f in r["files"]],
            }
            for r in results
        }
        total_tokens = sum(r["tokens"] for r in results)
        docs = sum(r["docs"] for r in results)
        if rows != docs:
            raise StageError(f"shards: lineage has {rows} rows for {docs} documents; rerun")
        meta = {
            "format": "megatron-indexed-dataset-1",
            "dtype": dtype,
            "byte_order": "little",
            "vocab_size": tok.vocab_size,
            "eos_id": tok.eos_id,
            "bos_id": tok.bos_id,
            "languages": languages,
            "total_tokens": total_tokens,
            "total_docs": docs,
            "sha256": {f["path"]: f["sha256"] for r in results for f in r["files"]},
        }
        write_json(ctx.out / "meta.json", meta)
        ctx.log.info(
            "shards: %d languages, %d documents, %d tokens (%s)",
            len(languages),
            docs,
            total_tokens,
            dtype,
        )
        record = {
            "dtype": dtype,
            "vocab_size": tok.vocab_size,
            "eos_id": tok.eos_id,
            "tokens_per_language": {lang: v["tokens"] for lang, v in sorted(languages.items())},
            "docs_per_language": {lang: v["docs"] for lang, v in sorted(languages.items())},
            "total_tokens": total_tokens,
            "docs": docs,
            "files": sum(len(v["files"]) for v in languages.values()),
        }
        return ShardsRecord.model_validate(record).dump()
