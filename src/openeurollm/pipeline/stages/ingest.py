"""ingest: input files (globs in the recipe) -> ingest/docs/*.parquet, one task per file."""

from __future__ import annotations

import glob
from collections import Counter
from pathlib import Path
from typing import Any

from openeurollm.config import Recipe
from openeurollm.io.fileio import file_sha256
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.pipeline.tasks import Task, run_tasks
from openeurollm.records.ingest import IngestRecord


def input_files(recipe: Recipe) -> list[tuple[Path, int]]:
    """Every file the recipe's inputs match, with the index of the input spec it came from."""
    out: list[tuple[Path, int]] = []
    seen: set[Path] = set()
    for i, spec in enumerate(recipe.ingest.inputs):
        for name in sorted(glob.glob(str(recipe.base_dir / spec.path), recursive=True)):
            path = Path(name).resolve()
            if path.is_file() and path not in seen:
                seen.add(path)
                out.append((path, i))
    return out


@STAGES.register("ingest")
class IngestStage(Stage):
    name = "ingest"
    # 2: shards of at most docs_per_shard documents per input file; 3: readers quarantine per
    # record (BOM, NUL lines, bad URLs, own WARC framing), so the same input can read differently
    version = 3

    def config(self, recipe: Recipe) -> dict[str, Any]:
        cfg = recipe.ingest.model_dump(mode="json")
        # Paths enter the key through the file digests, not through their spelling.
        for item in cfg["inputs"]:
            item.pop("path")
        return cfg

    def external_inputs(self, recipe: Recipe) -> list[Path]:
        return [path for path, _ in input_files(recipe)]

    def run(self, ctx: StageContext) -> dict[str, Any]:
        recipe = ctx.recipe
        files = input_files(recipe)
        tasks = [
            Task(
                name=f"{n:05d}",
                fn="openeurollm.data.ingest:ingest_file",
                args={
                    "path": str(path),
                    "spec": recipe.ingest.inputs[i].model_dump(mode="json"),
                    "out_prefix": str(ctx.out / "docs" / f"{n:05d}"),
                    "quarantine_path": str(ctx.out / "quarantine" / f"{n:05d}.jsonl"),
                    "docs_per_shard": recipe.ingest.docs_per_shard,
                },
            )
            for n, (path, i) in enumerate(files)
        ]
        results = run_tasks(ctx, tasks, desc="ingest")
        per_label: Counter[str] = Counter()
        bytes_per_label: Counter[str] = Counter()
        quarantined: Counter[str] = Counter()
        sources = []
        for (path, i), stats in zip(files, results, strict=True):
            spec = recipe.ingest.inputs[i]
            per_label.update(stats["docs_per_label"])
            bytes_per_label.update(stats["bytes_per_label"])
            quarantined.update(stats["quarantined"])
            sources.append(
                {
                    "path": str(path),
                    "name": spec.name or path.parent.name,
                    "license": spec.license,
                    "licenses": stats.get("licenses", {}),
                    "format": spec.format,
                    "sha256": file_sha256(path),
                    "docs": stats["docs"],
                    "bytes": stats["bytes"],
                    "quarantined": sum(stats["quarantined"].values()),
                    "collection_start": stats.get("collection_start"),
                    "collection_end": stats.get("collection_end"),
                    "undated_docs": stats.get("undated_docs", 0),
                    **({"crawler": stats["crawler"]} if stats.get("crawler") else {}),
                }
            )
        docs = sum(s["docs"] for s in sources)
        ctx.log.info(
            "ingest: %d files, %d documents, %d quarantined",
            len(files),
            docs,
            sum(quarantined.values()),
        )
        record = {
            "files": len(files),
            "docs": docs,
            "bytes": sum(s["bytes"] for s in sources),
            "docs_per_label": dict(sorted(per_label.items())),
            "bytes_per_label": dict(sorted(bytes_per_label.items())),
            "quarantined": dict(sorted(quarantined.items())),
            **collection_period(sources),
            **crawler_record(sources),
            "sources": sources,
        }
        return IngestRecord.model_validate(record).dump()


def collection_period(sources: list[dict[str, Any]]) -> dict[str, Any]:
    """First and last collection day over all sources, and over the crawls among them (WARC
    input: pages fetched by a crawler rather than a published dataset); None when undated."""

    def period(rows: list[dict[str, Any]]) -> dict[str, str | None]:
        starts = [r["collection_start"] for r in rows if r["collection_start"]]
        ends = [r["collection_end"] for r in rows if r["collection_end"]]
        return {"start": min(starts, default=None), "end": max(ends, default=None)}

    overall = period(sources)
    crawls = [s for s in sources if s["format"] == "warc"]
    return {
        "collection_start": overall["start"],
        "collection_end": overall["end"],
        "undated_docs": sum(s["undated_docs"] for s in sources),
        **({"crawl": period(crawls)} if crawls else {}),
    }


def crawler_record(sources: list[dict[str, Any]]) -> dict[str, Any]:
    """Who crawled the WARC input, as its warcinfo records declare it (empty when none do):
    the public summary of training content names the crawler and its robots.txt behaviour."""
    seen: dict[str, set[str]] = {}
    for source in sources:
        for key, values in source.get("crawler", {}).items():
            seen.setdefault(key, set()).update(values)
    if not seen:
        return {}

    def joined(key: str) -> str | None:
        return "; ".join(sorted(seen[key])) if key in seen else None

    return {
        "crawler": {
            "user_agent": joined("http-header-user-agent"),
            "software": joined("software"),
            "operator": joined("operator"),
            "robots_policy": joined("robots"),
            "crawls": sorted(seen.get("isPartOf", ())),
            "files": sum(1 for s in sources if s.get("crawler")),
        }
    }
