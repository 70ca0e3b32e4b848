"""Ingest: read one input file into a Parquet shard, quarantining what cannot be read."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from openeurollm.config import InputSpec
from openeurollm.data.docstore import write_documents
from openeurollm.data.document import Document
from openeurollm.data.readers import READERS, Quarantined
from openeurollm.pipeline.fileio import atomic_open


def ingest_file(
    path: str, spec: dict[str, Any], out_path: str, quarantine_path: str
) -> dict[str, Any]:
    """Task function: one input file -> one document shard + one quarantine file."""
    input_spec = InputSpec.model_construct(**spec)
    reader = READERS.get(input_spec.format)
    langs: Counter[str] = Counter()
    lang_bytes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    stats = {"docs": 0, "bytes": 0}

    with atomic_open(Path(quarantine_path)) as qfh:

        def documents() -> Any:
            for item in reader(Path(path), input_spec):
                if isinstance(item, Quarantined):
                    reasons[item.reason.split(":")[0]] += 1
                    qfh.write(json.dumps(item.__dict__, ensure_ascii=False) + "\n")
                    continue
                assert isinstance(item, Document)
                size = len(item.text.encode("utf-8"))
                stats["docs"] += 1
                stats["bytes"] += size
                langs[item.lang] += 1
                lang_bytes[item.lang] += size
                yield item

        write_documents(Path(out_path), documents())
    return {
        "path": path,
        "docs": stats["docs"],
        "bytes": stats["bytes"],
        "docs_per_label": dict(sorted(langs.items())),
        "bytes_per_label": dict(sorted(lang_bytes.items())),
        "quarantined": dict(sorted(reasons.items())),
    }
