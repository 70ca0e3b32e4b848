"""mix: curated documents -> per-language train sets sized by the budget, plus held-out sets."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from openeurollm.config import Recipe
from openeurollm.data.docstore import DocumentWriter, read_folder
from openeurollm.data.mixture import budgets, rehydration_weight
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.records.mix import MixRecord


def _unit(doc_id: str, salt: str) -> float:
    """A deterministic number in [0, 1) per document, for fractional repeats."""
    h = hashlib.sha256(f"{salt}:{doc_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


@STAGES.register("mix")
class MixStage(Stage):
    name = "mix"
    after = ("curate",)

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"mix": recipe.mix.model_dump(mode="json"), "seed": recipe.run.seed}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.recipe.mix
        source = ctx.input("curate") / "docs"
        # Pass 1: sizes, and which documents are held out (the lowest ids: stable and
        # independent of input order).
        ids: dict[str, list[tuple[str, int]]] = defaultdict(list)
        weighted: dict[str, float] = defaultdict(float)  # bytes x rehydration weight
        weight_of: dict[str, float] = {}
        for doc in read_folder(source):
            nbytes = len(doc.text.encode("utf-8"))
            ids[doc.lang].append((doc.id, nbytes))
            w = rehydration_weight(doc.meta.get("dup_cluster_size", 1), cfg.rehydrate)
            weighted[doc.lang] += nbytes * w
            if w != 1.0:
                weight_of[doc.id] = w
        heldout: set[str] = set()
        sizes: dict[str, int] = {}
        for lang, items in ids.items():
            items.sort()
            held = (
                items[: cfg.heldout_docs_per_language]
                if len(items) > cfg.heldout_docs_per_language
                else []
            )
            heldout.update(i for i, _ in held)
            sizes[lang] = sum(b for i, b in items if i not in heldout)
            held_weighted = sum(b * weight_of.get(i, 1.0) for i, b in held)
            weighted[lang] = weighted[lang] - held_weighted
        # Budgets are shared out over the rehydrated sizes: a weight-2 document counts twice.
        rehydrated = {lang: round(weighted[lang]) for lang in sizes}
        target = budgets(rehydrated, cfg.strategy, cfg.total_bytes, cfg.temperature, cfg.max_epochs)
        epochs = {
            lang: (target[lang] / rehydrated[lang] if rehydrated[lang] else 0.0) for lang in sizes
        }

        # Pass 2: write each language's train set with whole and fractional repeats.
        writers: dict[str, DocumentWriter] = {}
        held_writers: dict[str, DocumentWriter] = {}
        out_docs: dict[str, int] = defaultdict(int)
        out_bytes: dict[str, int] = defaultdict(int)
        distinct: dict[str, int] = defaultdict(int)  # documents trained at least once
        try:
            for doc in read_folder(source):
                if doc.id in heldout:
                    if doc.lang not in held_writers:
                        held_writers[doc.lang] = DocumentWriter(
                            ctx.out / "heldout" / f"{doc.lang}.parquet"
                        )
                    held_writers[doc.lang].write(doc)
                    continue
                e = epochs.get(doc.lang, 0.0) * weight_of.get(doc.id, 1.0)
                repeats = int(e) + (
                    1 if _unit(doc.id, str(ctx.recipe.run.seed)) < e - int(e) else 0
                )
                if repeats and doc.lang not in writers:
                    writers[doc.lang] = DocumentWriter(ctx.out / "train" / f"{doc.lang}.parquet")
                for _ in range(repeats):
                    writers[doc.lang].write(doc)
                out_docs[doc.lang] += repeats
                distinct[doc.lang] += 1 if repeats else 0
                out_bytes[doc.lang] += repeats * len(doc.text.encode("utf-8"))
        except BaseException as exc:
            for w in (*writers.values(), *held_writers.values()):
                w.__exit__(type(exc), exc, None)
            raise
        for w in (*writers.values(), *held_writers.values()):
            w.__exit__(None, None, None)

        langs = sorted(sizes)
        ctx.log.info(
            "mix: %d languages, %d train documents (%s), %d held out",
            len(langs),
            sum(out_docs.values()),
            cfg.strategy,
            len(heldout),
        )
        record = {
            "strategy": cfg.strategy,
            "languages": langs,
            "bytes_before": {lang: sizes[lang] for lang in langs},
            "docs_before": {
                lang: len(ids[lang]) - len([1 for i, _ in ids[lang] if i in heldout])
                for lang in langs
            },
            "bytes_after": {lang: out_bytes[lang] for lang in langs},
            "docs_after": {lang: out_docs[lang] for lang in langs},
            "distinct_docs_after": {lang: distinct[lang] for lang in langs},
            "epochs": {lang: round(epochs[lang], 4) for lang in langs},
            "rehydration": {
                "weights": {str(k): w for k, w in sorted((cfg.rehydrate or {}).items())},
                "bytes_weighted": {lang: rehydrated[lang] for lang in langs},
                "docs_reweighted": len(weight_of),
            }
            if cfg.rehydrate
            else {"weights": None},
            "heldout_docs": {lang: sum(1 for i, _ in ids[lang] if i in heldout) for lang in langs},
            "train_docs": sum(out_docs.values()),
            "train_bytes": sum(out_bytes.values()),
            "distinct_train_docs": sum(distinct.values()),
        }
        return MixRecord.model_validate(record).dump()
