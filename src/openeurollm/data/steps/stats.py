"""What the curation steps count and keep as evidence: per-step, per-language counts and
up to SAMPLES_PER_REASON dropped documents per reason (PII-masked)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from openeurollm.data.document import Document
from openeurollm.data.pii import PiiMasker
from openeurollm.io.fileio import atomic_open

# Record order of the steps: the per-document steps, then the two dedup passes.
STEPS = ("langid", "optout", "filters", "pii", "decontam", "dedup_exact", "dedup_near")
SAMPLES_PER_REASON = 20
_COUNTS = ("docs_in", "bytes_in", "words_in", "kept", "bytes_kept")


def _empty_cell() -> dict[str, Any]:
    return {k: 0 for k in _COUNTS} | {"dropped": {}}


class StepStats:
    """Per step and language: documents, bytes and words in; kept; dropped by reason."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, dict[str, Any]]] = {}

    def _cell(self, step: str, lang: str) -> dict[str, Any]:
        langs = self.data.setdefault(step, {})
        cell = langs.get(lang)
        if cell is None:
            cell = langs[lang] = _empty_cell()
        return cell

    def seen(self, step: str, lang: str, nbytes: int, nwords: int) -> None:
        cell = self._cell(step, lang)
        cell["docs_in"] += 1
        cell["bytes_in"] += nbytes
        cell["words_in"] += nwords

    def kept(self, step: str, lang: str, nbytes: int) -> None:
        cell = self._cell(step, lang)
        cell["kept"] += 1
        cell["bytes_kept"] += nbytes

    def dropped(self, step: str, lang: str, reason: str) -> None:
        d = self._cell(step, lang)["dropped"]
        d[reason] = d.get(reason, 0) + 1

    @staticmethod
    def merge(items: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in STEPS}
        for item in items:
            for step, langs in item.items():
                for lang, cell in langs.items():
                    tgt = out.setdefault(step, {}).setdefault(lang, _empty_cell())
                    for k in _COUNTS:
                        tgt[k] += cell[k]
                    for reason, n in cell["dropped"].items():
                        tgt["dropped"][reason] = tgt["dropped"].get(reason, 0) + n
        return {s: dict(sorted(out[s].items())) for s in out}


class Samples:
    """Up to SAMPLES_PER_REASON dropped documents per reason, PII-masked, first come first kept."""

    def __init__(self, masker: PiiMasker | None = None) -> None:
        self.masker = masker or PiiMasker()
        self.items: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def add(self, reason: str, doc: Document, **detail: Any) -> None:
        bucket = self.items[reason]
        if len(bucket) < SAMPLES_PER_REASON:
            text, _ = self.masker.mask(doc.text[:2000])
            bucket.append(
                {
                    "id": doc.id,
                    "lang": doc.lang,
                    "reason": reason,
                    "source": doc.source,
                    "text": text,
                    **detail,
                }
            )

    def write(self, folder: Path) -> None:
        for reason, items in self.items.items():
            with atomic_open(folder / f"{reason}.jsonl") as fh:
                for item in items:
                    fh.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")


def merge_samples(shard_dirs: list[Path], out_dir: Path) -> dict[str, int]:
    """First SAMPLES_PER_REASON samples per reason across shards, in shard order."""
    merged: dict[str, list[str]] = defaultdict(list)
    for folder in shard_dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.jsonl")):
            if path.name.startswith(".tmp-"):
                continue
            bucket = merged[path.stem]
            for line in path.read_text(encoding="utf-8").splitlines():
                if len(bucket) < SAMPLES_PER_REASON:
                    bucket.append(line)
    for reason, lines in merged.items():
        with atomic_open(out_dir / f"{reason}.jsonl") as fh:
            fh.write("".join(line + "\n" for line in lines))
    return {reason: len(lines) for reason, lines in sorted(merged.items())}
