"""Curation steps over one shard, and the global dedup pass over all shards.

Pass 1 (one task per ingest shard): language ID -> TDM opt-out -> quality filters ->
PII masking -> decontamination; survivors go to a work shard with their exact hash and
MinHash band hashes. Pass 2 (global, in the stage process): exact then near duplicate
clusters over every shard at once. Pass 3 (one task per shard, run in the stage process
on a local run): write the documents that survived dedup. Every document is counted in exactly one place: kept, dropped by
one reason at one step, or quarantined (a step raised on it).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from openeurollm.config import CurateConfig
from openeurollm.data.decontam import Decontaminator
from openeurollm.data.dedup.clusters import UnionFind, cluster_sizes, join_equal_keys
from openeurollm.data.dedup.minhash import MinHasher, band_hashes
from openeurollm.data.docstore import DocumentWriter, read_documents
from openeurollm.data.document import Document, normalized_hash
from openeurollm.data.filters import build_filters
from openeurollm.data.langid import LanguageId
from openeurollm.data.optout import DomainList, OptOutPolicy, document_domain
from openeurollm.data.pii import PiiMasker
from openeurollm.data.text import words
from openeurollm.io.fileio import atomic_open, atomic_path, write_json

STEPS = ("langid", "optout", "filters", "pii", "decontam", "dedup_exact", "dedup_near")
SAMPLES_PER_REASON = 20
_SIG_BATCH = 512


class StepStats:
    """Per step and language: documents, bytes and words in; kept; dropped by reason."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in STEPS}

    def _cell(self, step: str, lang: str) -> dict[str, Any]:
        cell = self.data[step].get(lang)
        if cell is None:
            cell = self.data[step][lang] = {
                "docs_in": 0,
                "bytes_in": 0,
                "words_in": 0,
                "kept": 0,
                "bytes_kept": 0,
                "dropped": {},
            }
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
                    tgt = out.setdefault(step, {}).setdefault(
                        lang,
                        {k: 0 for k in ("docs_in", "bytes_in", "words_in", "kept", "bytes_kept")}
                        | {"dropped": {}},
                    )
                    for k in ("docs_in", "bytes_in", "words_in", "kept", "bytes_kept"):
                        tgt[k] += cell[k]
                    for reason, n in cell["dropped"].items():
                        tgt["dropped"][reason] = tgt["dropped"].get(reason, 0) + n
        return {s: dict(sorted(out[s].items())) for s in out}


class Samples:
    """Up to SAMPLES_PER_REASON dropped documents per reason, PII-masked, first come first kept."""

    def __init__(self, masker: PiiMasker) -> None:
        self.masker = masker
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


SIG_SCHEMA_FIELDS = [
    ("id", pa.string()),
    ("lang", pa.string()),
    ("bytes", pa.int64()),
    ("words", pa.int64()),
    ("exact", pa.string()),
]


class Curator:
    """The per-document steps of pass 1, built once per task from the curate config."""

    def __init__(
        self,
        cfg: CurateConfig,
        optout_files: dict[str, list[Path]],
        eval_tasks: list[tuple[str, str, Path, Path]],
    ) -> None:
        self.cfg = cfg
        self.langid = LanguageId(
            cfg.languages,
            min_score=cfg.langid.min_score,
            thresholds=cfg.langid.thresholds,
            relabel=cfg.langid.relabel,
        )
        self.optout = OptOutPolicy(
            optout_files.get("domain_lists", []),
            optout_files.get("robots_snapshots", []),
            optout_files.get("tdmrep_snapshots", []),
            cfg.optout.ai_user_agents,
            cfg.optout.page_signals,
        )
        self.infringing = DomainList(optout_files.get("infringing_lists", []), "infringing_list")
        self.filters = build_filters(cfg.filters)
        self.masker = PiiMasker(cfg.pii.kinds if cfg.pii.enabled else ())
        self.sample_masker = PiiMasker()
        self.decontam = Decontaminator(cfg.decontam.ngram)
        if cfg.decontam.enabled:
            for name, template, path, base_dir in eval_tasks:
                self.decontam.add_task(name, template, path, base_dir)
        self.stats = StepStats()
        self.samples = Samples(self.sample_masker)
        self.relabelled: Counter[str] = Counter()
        self.pii: dict[str, Counter[str]] = defaultdict(Counter)
        self.optout_decisions: dict[str, dict[str, Any]] = {}
        self.infringing_hits: Counter[str] = Counter()  # domain -> documents dropped
        self.decontam_matches: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.quarantined: Counter[str] = Counter()

    def _drop(self, step: str, doc: Document, reason: str, **detail: Any) -> None:
        self.stats.dropped(step, doc.lang or "und", reason)
        self.samples.add(reason, doc, step=step, **detail)

    def process(self, doc: Document) -> Document | None:
        """Run pass-1 steps on one document; None when it was dropped."""
        nbytes = len(doc.text.encode("utf-8"))
        nwords = len(words(doc.text))
        label = doc.lang or "und"
        self.stats.seen("langid", label, nbytes, nwords)
        decision = self.langid.decide(doc.text, doc.lang)
        if decision.reason:
            self._drop("langid", doc, decision.reason, score=round(decision.score, 4))
            return None
        if decision.relabelled:
            self.relabelled[f"{label}->{decision.lang}"] += 1
            doc.meta["lang_label"] = doc.lang
        self.stats.kept("langid", label, nbytes)
        doc.lang, doc.lang_score = decision.lang, round(decision.score, 6)
        lang = doc.lang

        self.stats.seen("optout", lang, nbytes, nwords)
        if len(self.infringing):
            domain = document_domain(doc)
            if self.infringing.rule(domain):
                self.infringing_hits[domain] += 1
                self._drop("optout", doc, "infringing_site", domain=domain)
                return None
        opt = self.optout.decide(doc)
        entry = self.optout_decisions.setdefault(
            opt.domain or "(none)", {"docs": 0, "bytes": 0, "opted_out_docs": 0, "rules": {}}
        )
        entry["docs"] += 1
        entry["bytes"] += nbytes
        entry["rules"][opt.rule] = entry["rules"].get(opt.rule, 0) + 1
        if opt.opted_out:
            entry["opted_out_docs"] += 1
            self._drop("optout", doc, "optout_" + opt.rule.split(":")[0], domain=opt.domain)
            return None
        self.stats.kept("optout", lang, nbytes)

        self.stats.seen("filters", lang, nbytes, nwords)
        for flt in self.filters:
            verdict = flt.keep(doc)
            if verdict is not True:
                self._drop("filters", doc, str(verdict), filter=flt.name)
                return None
        self.stats.kept("filters", lang, nbytes)

        self.stats.seen("pii", lang, nbytes, nwords)
        if self.masker.kinds:
            masked, counts = self.masker.mask(doc.text)
            if counts:
                doc.text = masked
                doc.meta["pii_masked"] = dict(sorted(counts.items()))
                self.pii[lang].update(counts)
                nbytes = len(masked.encode("utf-8"))
        self.stats.kept("pii", lang, nbytes)

        self.stats.seen("decontam", lang, nbytes, nwords)
        match = self.decontam.find(doc.text) if self.cfg.decontam.enabled else None
        if match is not None:
            self.decontam_matches[match.task][match.item] += 1
            self._drop("decontam", doc, "decontam_ngram", task=match.task, item=match.item)
            return None
        self.stats.kept("decontam", lang, nbytes)
        return doc

    def summary(self) -> dict[str, Any]:
        return {
            "steps": self.stats.data,
            "relabelled": dict(self.relabelled),
            "pii": {lang: dict(c) for lang, c in self.pii.items()},
            "optout": self.optout_decisions,
            "infringing": dict(self.infringing_hits),
            "decontam": {t: dict(m) for t, m in self.decontam_matches.items()},
            "quarantined": dict(self.quarantined),
        }


def _curator_from_args(
    config: dict[str, Any], optout_files: dict[str, list[str]], eval_tasks: list[list[str]]
) -> Curator:
    cfg = CurateConfig.model_validate(config)
    files = {kind: [Path(p) for p in paths] for kind, paths in optout_files.items()}
    return Curator(cfg, files, [(n, t, Path(p), Path(b)) for n, t, p, b in eval_tasks])


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
    curator = _curator_from_args(config, optout_files, eval_tasks)
    dcfg = curator.cfg.dedup
    hasher = MinHasher(dcfg.bands * dcfg.rows, dcfg.ngram, dcfg.seed)
    columns: dict[str, list[Any]] = {name: [] for name, _ in SIG_SCHEMA_FIELDS}
    bands: list[np.ndarray] = []
    batch: list[str] = []
    docs_in = 0

    def flush() -> None:
        if batch:
            bands.append(band_hashes(hasher.signatures(batch), dcfg.bands, dcfg.rows))
            batch.clear()

    with atomic_open(Path(quarantine_path)) as qfh, DocumentWriter(Path(work_path)) as writer:

        def survivors() -> Iterator[Document]:
            nonlocal docs_in
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
                    yield kept

        for doc in survivors():
            writer.write(doc)
            columns["id"].append(doc.id)
            columns["lang"].append(doc.lang)
            columns["bytes"].append(len(doc.text.encode("utf-8")))
            columns["words"].append(len(words(doc.text)))
            columns["exact"].append(normalized_hash(doc.text))
            batch.append(doc.text)
            if len(batch) >= _SIG_BATCH:
                flush()
        flush()

    band_matrix = np.concatenate(bands) if bands else np.empty((0, dcfg.bands), dtype=np.uint64)
    table = pa.table(
        {
            **{name: pa.array(columns[name], type=t) for name, t in SIG_SCHEMA_FIELDS},
            **{
                f"band{b}": pa.array(band_matrix[:, b], type=pa.uint64()) for b in range(dcfg.bands)
            },
        }
    )
    with atomic_path(Path(sig_path)) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    curator.samples.write(Path(samples_dir))
    return {"docs_in": docs_in, "survivors": len(columns["id"]), **curator.summary()}


def global_dedup(sig_paths: list[Path], exact: bool, near: bool, bands: int) -> dict[str, Any]:
    """Clusters over all shards at once.

    Memory: ids, the exact hashes, then the band hashes (8 bytes per band per document),
    never the documents or whole signatures.
    Rows are addressed by (shard, row) and not by id: exact copies share their content id.
    Returns {"stats": ..., "drops": {shard index: {reason: [row numbers]}}}.
    """
    tables = [pq.read_table(p, columns=["id", "exact"]) for p in sig_paths]
    n = sum(t.num_rows for t in tables)
    stats: dict[str, Any] = {"docs": n}
    drops: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    if n == 0:
        return {"stats": stats, "drops": drops}
    shard_of = np.concatenate(
        [np.full(t.num_rows, i, dtype=np.int32) for i, t in enumerate(tables)]
    )
    row_of = np.concatenate([np.arange(t.num_rows, dtype=np.int64) for t in tables])
    ids = np.array([x for t in tables for x in t.column("id").to_pylist()], dtype=object)
    # Rows sorted by id (ties: shard, row): a cluster's union-find root is its smallest id.
    order = np.argsort(ids, kind="stable")
    shard_of, row_of = shard_of[order], row_of[order]
    reason = np.full(n, "", dtype=object)
    alive = np.ones(n, dtype=bool)
    if exact:
        keys = np.array(
            [int(x[:16], 16) for t in tables for x in t.column("exact").to_pylist()],
            dtype=np.uint64,
        )[order]
        uf = UnionFind(n)
        join_equal_keys(uf, keys)
        roots = uf.roots()
        dup = roots != np.arange(n)
        reason[dup] = "dedup_exact"
        alive &= ~dup
        sizes = cluster_sizes(roots)
        stats["exact"] = {
            "clusters": len(sizes),
            "removed": int(dup.sum()),
            "largest": sizes[0] if sizes else 0,
        }
    del tables
    if near:
        uf = UnionFind(n)
        edges = 0
        names = [f"band{b}" for b in range(bands)]
        band_keys = np.concatenate(
            [
                np.column_stack([t.column(c).to_numpy() for c in names])
                for t in (pq.read_table(p, columns=names) for p in sig_paths)
            ]
        )[order]
        for b in range(bands):
            edges += join_equal_keys(uf, band_keys[:, b], active=alive)
        del band_keys
        roots = uf.roots()
        dup = alive & (roots != np.arange(n))
        reason[dup] = "dedup_near"
        sizes = cluster_sizes(roots[alive])
        alive &= ~dup
        stats["near"] = {
            "clusters": len(sizes),
            "removed": int(dup.sum()),
            "largest": sizes[0] if sizes else 0,
            "bucket_pairs": edges,
        }
    for i in np.flatnonzero(reason != ""):
        drops[int(shard_of[i])][str(reason[i])].append(int(row_of[i]))
    return {"stats": stats, "drops": drops}


def write_shard(
    work_path: str, sig_path: str, out_path: str, drop_path: str, samples_dir: str
) -> dict[str, Any]:
    """Task function for pass 3: copy the dedup survivors of one shard to the output."""
    with open(drop_path, encoding="utf-8") as fh:
        drop_lists: dict[str, list[int]] = json.load(fh)
    keys = pq.read_table(sig_path, columns=["bytes", "words"])
    sizes = keys.column("bytes").to_pylist()
    word_counts = keys.column("words").to_pylist()
    dropped = {row: reason for reason, rows in drop_lists.items() for row in rows}
    stats = StepStats()
    samples = Samples(PiiMasker())
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
                writer.write(doc)
                kept_per_lang[doc.lang] += 1
    samples.write(Path(samples_dir))
    return {"steps": stats.data, "kept": dict(kept_per_lang)}


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


def write_drop_lists(drops: dict[int, dict[str, list[int]]], paths: list[Path]) -> None:
    for i, path in enumerate(paths):
        write_json(path, {k: sorted(v) for k, v in drops.get(i, {}).items()})
