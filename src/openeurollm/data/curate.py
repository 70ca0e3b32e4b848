"""The per-document curation steps over one shard, and the copy of dedup survivors.

Pass 1 (one task per ingest shard): the steps of `openeurollm.data.steps` in order
(language ID -> TDM opt-out -> quality filters -> PII masking -> decontamination);
survivors go to a work shard with their exact hash and MinHash band hashes. The dedup
passes (`openeurollm.data.dedup`) then find duplicate clusters; the last pass (one task
per shard) writes the documents that survived dedup. Every document is counted in
exactly one place: kept, dropped by one reason at one step, or quarantined (a step
raised on it).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from openeurollm.config import CurateConfig
from openeurollm.data.dedup.keys import KeyWriter
from openeurollm.data.docstore import DocumentWriter, read_documents
from openeurollm.data.document import Document
from openeurollm.data.steps import DOCUMENT_STEPS, STEPS_REGISTRY, Step, StepInputs
from openeurollm.data.steps.stats import STEPS, Samples, StepStats
from openeurollm.data.text import words
from openeurollm.io.fileio import atomic_open

__all__ = ["STEPS", "Curator", "curate_shard", "write_shard"]


class Curator:
    """The per-document steps of pass 1, built once per task from the curate config."""

    def __init__(self, cfg: CurateConfig, inputs: StepInputs) -> None:
        self.cfg = cfg
        self.stats = StepStats()
        self.samples = Samples()
        self.steps: list[Step] = [
            STEPS_REGISTRY.get(name)(cfg, inputs, self.stats, self.samples) for name in cfg.steps
        ]
        self.quarantined: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()  # per step: where pass 1's time goes

    def process(self, doc: Document) -> Document | None:
        """Run every step on one document; None when a step dropped it."""
        nbytes = len(doc.text.encode("utf-8"))
        nwords = len(words(doc.text))
        current: Document | None = doc
        for step in self.steps:
            # Counted under the language the document arrived with (langid relabels).
            lang = doc.lang or "und"
            self.stats.seen(step.name, lang, nbytes, nwords)
            start = time.perf_counter()
            current = step.apply(doc)
            self.seconds[step.name] += time.perf_counter() - start
            if current is None:
                return None
            doc = current
            if step.changes_text:
                nbytes = len(doc.text.encode("utf-8"))
            self.stats.kept(step.name, lang, nbytes)
        return doc

    def summary(self) -> dict[str, Any]:
        return {
            "steps": self.stats.data,
            "parts": {step.name: step.part() for step in self.steps},
            "quarantined": dict(self.quarantined),
            "seconds": {name: round(t, 4) for name, t in self.seconds.items()},
        }


def merge_parts(
    steps: list[str], results: list[dict[str, Any]], dropped: Counter[str]
) -> dict[str, Any]:
    """The curate-record fields every step builds from all tasks' parts; fields of the
    built-in steps are always present, so records keep their shape without them. A plugin
    step's fields go under `plugin_steps.<name>`: the record's typed schema (records/curate.py)
    cannot know them, and a plugin must not be able to overwrite a built-in field."""
    fields: dict[str, Any] = {}
    plugins: dict[str, Any] = {}
    for name in dict.fromkeys([*DOCUMENT_STEPS, *steps]):
        cls = STEPS_REGISTRY.get(name)
        part = cls.record(cls.merge([r["parts"].get(name, {}) for r in results]), dropped)
        if name in DOCUMENT_STEPS:
            fields |= part
        else:
            plugins[name] = part
    return {**fields, "plugin_steps": plugins}


def _curator_from_args(
    config: dict[str, Any], optout_files: dict[str, list[str]], eval_tasks: list[list[str]]
) -> Curator:
    cfg = CurateConfig.model_validate(config)
    inputs = StepInputs(
        optout_files={kind: [Path(p) for p in paths] for kind, paths in optout_files.items()},
        eval_tasks=[(n, t, Path(p), Path(b)) for n, t, p, b in eval_tasks],
    )
    return Curator(cfg, inputs)


def curate_shard(
    in_path: str,
    work_path: str,
    sig_path: str,
    samples_dir: str,
    quarantine_path: str,
    config: dict[str, Any],
    optout_files: dict[str, list[str]],
    eval_tasks: list[list[str]],
) -> dict[str, Any]:
    """Task function for pass 1: one ingest shard -> survivors + their dedup keys."""
    started = time.perf_counter()
    curator = _curator_from_args(config, optout_files, eval_tasks)
    keys = KeyWriter(curator.cfg.dedup)
    docs_in = 0
    with atomic_open(Path(quarantine_path)) as qfh, DocumentWriter(Path(work_path)) as writer:
        for doc in read_documents(Path(in_path)):
            docs_in += 1
            try:
                kept = curator.process(doc)
            except Exception as exc:  # a bug or a pathological document: keep going
                reason = f"curate_error:{type(exc).__name__}"
                curator.quarantined[reason] += 1
                qfh.write(json.dumps({"id": doc.id, "reason": f"{reason}: {exc}"[:500]}) + "\n")
                continue
            if kept is not None:
                writer.write(kept)
                start = time.perf_counter()
                keys.add(kept)
                curator.seconds["dedup_keys"] += time.perf_counter() - start
    start = time.perf_counter()
    keys.write(Path(sig_path))
    curator.seconds["dedup_keys"] += time.perf_counter() - start
    curator.samples.write(Path(samples_dir))
    # The rest: reading and writing documents, counting, building the steps.
    curator.seconds["other"] = time.perf_counter() - started - sum(curator.seconds.values())
    return {"docs_in": docs_in, "survivors": len(keys), **curator.summary()}


def write_shard(
    work_path: str, sig_path: str, out_path: str, drop_path: str, samples_dir: str
) -> dict[str, Any]:
    """Task function for pass 3: copy the dedup survivors of one shard to the output, each
    with the size of its duplicate cluster (`meta.dup_cluster_size`, 1 for a unique one)."""
    with open(drop_path, encoding="utf-8") as fh:
        decisions = json.load(fh)
    keys = pq.read_table(sig_path, columns=["bytes", "words"])
    sizes = keys.column("bytes").to_pylist()
    word_counts = keys.column("words").to_pylist()
    dropped = {row: reason for reason, rows in decisions["drop"].items() for row in rows}
    cluster_size = {int(row): n for row, n in decisions["cluster_size"].items()}
    stats = StepStats()
    samples = Samples()
    kept_per_lang: Counter[str] = Counter()
    with DocumentWriter(Path(out_path)) as writer:
        for row, doc in enumerate(read_documents(Path(work_path))):
            nbytes, nwords = sizes[row], word_counts[row]
            for step in ("dedup_exact", "dedup_near"):
                stats.seen(step, doc.lang, nbytes, nwords)
                if dropped.get(row) == step:
                    stats.dropped(step, doc.lang, step)
                    samples.add(step, doc, step=step)
                    break
                stats.kept(step, doc.lang, nbytes)
            else:
                doc.meta["dup_cluster_size"] = cluster_size.get(row, 1)
                writer.write(doc)
                kept_per_lang[doc.lang] += 1
    samples.write(Path(samples_dir))
    return {"steps": stats.data, "kept": dict(kept_per_lang)}
