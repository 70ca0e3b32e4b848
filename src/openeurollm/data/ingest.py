"""Ingest: read one input file into Parquet shards, quarantining what cannot be read."""

from __future__ import annotations

import json
import re
from collections import Counter
from itertools import chain, islice
from pathlib import Path
from typing import Any

from openeurollm.config import InputSpec
from openeurollm.data.docstore import write_documents
from openeurollm.data.document import Document
from openeurollm.data.readers import READERS, Quarantined, SourceInfo
from openeurollm.io.fileio import atomic_open

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def collection_day(meta: dict[str, Any]) -> str | None:
    """The day a document was collected (YYYY-MM-DD): `crawl_date` (our readers take it
    from WARC-Date) or `date` (as in FineWeb and other Common Crawl exports)."""
    for key in ("crawl_date", "date"):
        value = meta.get(key)
        if isinstance(value, str) and (m := _ISO_DAY.match(value.strip())):
            return m.group(0)
    return None


def ingest_file(
    path: str,
    spec: dict[str, Any],
    out_prefix: str,
    quarantine_path: str,
    docs_per_shard: int = 20_000,
) -> dict[str, Any]:
    """Task function: one input file -> document shards `<out_prefix>-NNNN.parquet` of at most
    `docs_per_shard` documents each, plus one quarantine file."""
    input_spec = InputSpec.model_construct(**spec)
    reader = READERS.get(input_spec.format)
    langs: Counter[str] = Counter()
    lang_bytes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    licenses: Counter[str] = Counter()  # a document's own licence, else the input's default
    stats = {"docs": 0, "bytes": 0, "undated": 0}
    days: list[str] = []  # first and last collection day seen (ISO dates sort as text)
    crawler: dict[str, set[str]] = {}  # warcinfo field -> the values seen in this file

    with atomic_open(Path(quarantine_path)) as qfh:

        def documents() -> Any:
            for item in reader(Path(path), input_spec):
                if isinstance(item, SourceInfo):
                    for key, value in item.fields.items():
                        crawler.setdefault(key, set()).add(value)
                    continue
                if isinstance(item, Quarantined):
                    reasons[item.reason.split(":")[0]] += item.lost
                    qfh.write(json.dumps(item.__dict__, ensure_ascii=False) + "\n")
                    continue
                assert isinstance(item, Document)
                size = len(item.text.encode("utf-8"))
                stats["docs"] += 1
                stats["bytes"] += size
                langs[item.lang] += 1
                lang_bytes[item.lang] += size
                licenses[str(item.meta.get("license") or "not recorded")] += 1
                day = collection_day(item.meta)
                if day is None:
                    stats["undated"] += 1
                elif not days:
                    days[:] = [day, day]
                else:
                    days[:] = [min(days[0], day), max(days[1], day)]
                yield item

        # Shards of at most docs_per_shard documents, so one big input file still gives
        # curate many parallel tasks.
        docs = documents()
        shards = 0
        for first in docs:
            shard = Path(f"{out_prefix}-{shards:04d}.parquet")
            write_documents(shard, chain([first], islice(docs, docs_per_shard - 1)))
            shards += 1
        if shards == 0:  # an input without documents still leaves an (empty) shard
            write_documents(Path(f"{out_prefix}-0000.parquet"), [])
            shards = 1
    return {
        "shards": shards,
        "path": path,
        "docs": stats["docs"],
        "bytes": stats["bytes"],
        "docs_per_label": dict(sorted(langs.items())),
        "bytes_per_label": dict(sorted(lang_bytes.items())),
        "quarantined": dict(sorted(reasons.items())),
        "collection_start": days[0] if days else None,
        "collection_end": days[1] if days else None,
        "undated_docs": stats["undated"],
        "licenses": dict(sorted(licenses.items())),
        "crawler": {key: sorted(values) for key, values in sorted(crawler.items())},
    }
