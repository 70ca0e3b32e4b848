"""curate: ingest/docs -> curate/docs (kept) + curate/dropped/<reason>.jsonl (samples).

Pass 1 runs per shard as tasks (language ID, opt-out, filters, PII, decontamination);
pass 2 finds exact and near duplicates globally in this process; pass 3 writes each
shard's survivors as tasks. The record reconciles: in = kept + dropped + quarantined.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from openeurollm.config import Recipe
from openeurollm.data.curate import (
    STEPS,
    StepStats,
    global_dedup,
    merge_samples,
    write_drop_lists,
)
from openeurollm.data.docstore import shard_paths
from openeurollm.data.optout import DomainList
from openeurollm.errors import StageError
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.pipeline.tasks import Task, run_tasks

WORK = ".stage-work"  # scratch: excluded from the stage digest (fileio.is_scratch)


OPTOUT_FILES = ("domain_lists", "robots_snapshots", "tdmrep_snapshots", "infringing_lists")


def _optout_files(recipe: Recipe) -> dict[str, list[Path]]:
    opt = recipe.curate.optout
    return {kind: [recipe.resolve(p) for p in getattr(opt, kind)] for kind in OPTOUT_FILES}


def _eval_tasks(recipe: Recipe) -> list[tuple[str, str, Path]]:
    """(name, template, data path) of every eval task: decontamination covers them all."""
    return [(t.name, t.template, recipe.resolve(t.path)) for t in recipe.eval.tasks]


def _files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def _sum_dropped(steps: dict[str, Any]) -> Counter[str]:
    out: Counter[str] = Counter()
    for langs in steps.values():
        for cell in langs.values():
            out.update(cell["dropped"])
    return out


@STAGES.register("curate")
class CurateStage(Stage):
    name = "curate"
    after = ("ingest",)
    version = 3  # 2: batched byte-level MinHash, opt-out record per rule; 3: infringing sites

    def config(self, recipe: Recipe) -> dict[str, Any]:
        cfg = recipe.curate.model_dump(mode="json")
        # File contents enter the key as external inputs; names of eval tasks matter too.
        for kind in OPTOUT_FILES:
            cfg["optout"].pop(kind)
        cfg["decontam_tasks"] = [t.name for t in recipe.eval.tasks]
        return cfg

    def external_inputs(self, recipe: Recipe) -> list[Path]:
        files = [p for paths in _optout_files(recipe).values() for p in paths]
        if recipe.curate.decontam.enabled:
            files += [f for _, _, path in _eval_tasks(recipe) for f in _files_under(path)]
        return files

    def run(self, ctx: StageContext) -> dict[str, Any]:
        recipe = ctx.recipe
        cfg = recipe.curate
        inputs = shard_paths(ctx.input("ingest") / "docs")
        work = ctx.out / WORK
        names = [p.stem for p in inputs]
        config = cfg.model_dump(mode="json")
        for kind in OPTOUT_FILES:
            config["optout"][kind] = []  # passed resolved, below
        optout_files = {k: [str(p) for p in v] for k, v in _optout_files(recipe).items()}
        eval_tasks = [[n, t, str(p), str(recipe.base_dir)] for n, t, p in _eval_tasks(recipe)]

        # Pass 1: per-document steps, one task per ingest shard.
        tasks = [
            Task(
                name=f"steps-{name}",
                fn="openeurollm.data.curate:curate_shard",
                args={
                    "in_path": str(path),
                    "work_path": str(work / "docs" / f"{name}.parquet"),
                    "sig_path": str(work / "keys" / f"{name}.parquet"),
                    "samples_dir": str(work / "samples" / name),
                    "quarantine_path": str(ctx.out / "quarantine" / f"{name}.jsonl"),
                    "config": config,
                    "optout_files": optout_files,
                    "eval_tasks": eval_tasks if cfg.decontam.enabled else [],
                },
            )
            for name, path in zip(names, inputs, strict=True)
        ]
        t0 = time.monotonic()
        pass1 = run_tasks(ctx, tasks, desc="curate")
        t1 = time.monotonic()

        # Pass 2: global exact + near dedup over every shard's keys.
        dedup = global_dedup(
            [work / "keys" / f"{n}.parquet" for n in names],
            cfg.dedup.exact,
            cfg.dedup.near,
            cfg.dedup.bands,
        )
        drop_paths = [work / "drops" / f"{n}.json" for n in names]
        write_drop_lists(dedup["drops"], drop_paths)

        # Pass 3: write the survivors, one task per shard (own task folder and markers).
        out_docs = ctx.out / "docs"
        # Copying survivors is light work: a local run does it in this process rather
        # than starting a second worker pool; a cluster run spreads it like pass 1.
        write_recipe = recipe
        if recipe.executor.kind == "local":
            write_recipe = recipe.model_copy(
                update={"executor": recipe.executor.model_copy(update={"workers": 1})}
            )
        write_ctx = dataclasses.replace(ctx, out=work / "write", recipe=write_recipe)
        write_tasks = [
            Task(
                name=f"write-{name}",
                fn="openeurollm.data.curate:write_shard",
                args={
                    "work_path": str(work / "docs" / f"{name}.parquet"),
                    "sig_path": str(work / "keys" / f"{name}.parquet"),
                    "out_path": str(out_docs / f"{name}.parquet"),
                    "drop_path": str(drop_paths[i]),
                    "samples_dir": str(work / "dedup-samples" / name),
                },
            )
            for i, name in enumerate(names)
        ]
        t2 = time.monotonic()
        pass3 = run_tasks(write_ctx, write_tasks, desc="curate write")
        t3 = time.monotonic()

        samples = merge_samples(
            [work / "samples" / n for n in names] + [work / "dedup-samples" / n for n in names],
            ctx.out / "dropped",
        )
        infringing_lists = _optout_files(recipe)["infringing_lists"]
        record = self._record(pass1, pass3, dedup["stats"], samples, infringing_lists)
        shutil.rmtree(work / "docs", ignore_errors=True)  # copies of the kept documents
        ctx.log.info(
            "curate: %d in, %d kept, %d dropped, %d quarantined; steps %.1fs (%.0f docs/s), "
            "global dedup %.1fs, write %.1fs",
            record["docs_in"],
            record["docs_kept"],
            record["docs_dropped"],
            record["quarantined"],
            t1 - t0,
            record["docs_in"] / max(t1 - t0, 1e-9),
            t2 - t1,
            t3 - t2,
        )
        return record

    @staticmethod
    def _record(
        pass1: list[dict[str, Any]],
        pass3: list[dict[str, Any]],
        dedup: dict[str, Any],
        samples: dict[str, int],
        infringing_lists: list[Path],
    ) -> dict[str, Any]:
        steps = StepStats.merge([r["steps"] for r in pass1] + [r["steps"] for r in pass3])
        docs_in = sum(r["docs_in"] for r in pass1)
        kept: Counter[str] = Counter()
        for r in pass3:
            kept.update(r["kept"])
        dropped = _sum_dropped(steps)
        quarantined: Counter[str] = Counter()
        relabelled: Counter[str] = Counter()
        pii: dict[str, Counter[str]] = {}
        optout: dict[str, dict[str, Any]] = {}
        infringing: Counter[str] = Counter()
        decontam: dict[str, Counter[str]] = {}
        for r in pass1:
            infringing.update(r.get("infringing", {}))
            quarantined.update(r["quarantined"])
            relabelled.update(r["relabelled"])
            for lang, counts in r["pii"].items():
                pii.setdefault(lang, Counter()).update(counts)
            for domain, d in r["optout"].items():
                tgt = optout.setdefault(
                    domain, {"docs": 0, "bytes": 0, "opted_out_docs": 0, "rules": {}}
                )
                tgt["docs"] += d["docs"]
                tgt["bytes"] += d.get("bytes", 0)
                tgt["opted_out_docs"] += d["opted_out_docs"]
                for rule, k in d["rules"].items():
                    tgt["rules"][rule] = tgt["rules"].get(rule, 0) + k
            for task, items in r["decontam"].items():
                decontam.setdefault(task, Counter()).update(items)
        n_kept, n_dropped, n_quar = (
            sum(kept.values()),
            sum(dropped.values()),
            sum(quarantined.values()),
        )
        from openeurollm.data.curate_errors import check_error_rate

        try:
            check_error_rate(docs_in, quarantined)
        except ValueError as exc:
            raise StageError(f"curate: {exc}") from None
        if docs_in != n_kept + n_dropped + n_quar:
            raise StageError(
                f"curate: counts do not reconcile: {docs_in} in != {n_kept} kept + "
                f"{n_dropped} dropped + {n_quar} quarantined"
            )
        pii_total: Counter[str] = Counter()
        for counts in pii.values():
            pii_total.update(counts)
        return {
            "docs_in": docs_in,
            "docs_kept": n_kept,
            "docs_dropped": n_dropped,
            "quarantined": n_quar,
            "reconciled": True,
            "kept_per_language": dict(sorted(kept.items())),
            "bytes_kept_per_language": {
                lang: steps["dedup_near"].get(lang, {}).get("bytes_kept", 0)
                for lang in sorted(kept)
            },
            "dropped_by_reason": dict(sorted(dropped.items())),
            "quarantined_by_reason": dict(sorted(quarantined.items())),
            "steps": {s: steps.get(s, {}) for s in STEPS},
            "relabelled": dict(sorted(relabelled.items())),
            "pii": {lang: dict(sorted(c.items())) for lang, c in sorted(pii.items())},
            "pii_total": dict(sorted(pii_total.items())),
            "optout": dict(sorted(optout.items())),
            "optout_domains_opted_out": sorted(d for d, v in optout.items() if v["opted_out_docs"]),
            # All opt-out drop reasons together (domain list, TDMRep, noai, robots.txt).
            "optout_docs_removed": sum(n for r, n in dropped.items() if r.startswith("optout_")),
            "infringing_sites": {
                "lists": [p.name for p in infringing_lists],
                "domains_listed": len(DomainList(infringing_lists, "infringing_list")),
                "docs_removed": dropped.get("infringing_site", 0),
                "domains": dict(sorted(infringing.items())),
            },
            "dedup": dedup,
            "decontam": {
                "matches": {t: dict(sorted(c.items())) for t, c in sorted(decontam.items())},
                "docs_dropped": dropped.get("decontam_ngram", 0),
            },
            "dropped_samples": samples,
        }
