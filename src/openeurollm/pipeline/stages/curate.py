"""curate: ingest/docs -> curate/docs (kept) + curate/dropped/<reason>.jsonl (samples).

Pass 1 runs per shard as tasks (language ID, opt-out, filters, PII, decontamination);
pass 2 finds exact and near duplicate clusters as tasks (no task holds every signature);
pass 3 writes each shard's survivors, with their duplicate-cluster size, as tasks.
The record reconciles: in = kept + dropped + quarantined.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from openeurollm.config import OptOutConfig, Recipe
from openeurollm.data.curate import merge_parts
from openeurollm.data.docstore import shard_paths
from openeurollm.data.optout import DomainList
from openeurollm.data.steps.stats import STEPS, StepStats, merge_samples
from openeurollm.errors import StageError
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.pipeline.stages.dedup_tasks import light_context, run_dedup
from openeurollm.pipeline.tasks import Task, run_tasks
from openeurollm.records.curate import CurateRecord

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


def _optout_protocols(
    files: dict[str, list[Path]], cfg: OptOutConfig, dropped: Counter[str]
) -> dict[str, Any]:
    """What each opt-out protocol was given in this run, and the documents each rule removed:
    the documents state a protocol as applied only when the run had its input."""
    return {
        "domain_lists": [p.name for p in files["domain_lists"]],
        "domains_listed": len(DomainList(files["domain_lists"], "domain_list")),
        "robots_snapshots": [p.name for p in files["robots_snapshots"]],
        "tdmrep_snapshots": [p.name for p in files["tdmrep_snapshots"]],
        "ai_user_agents": list(cfg.ai_user_agents),
        "page_signals": cfg.page_signals,
        "docs_removed_by_rule": {
            r: n for r, n in sorted(dropped.items()) if r.startswith("optout_")
        },
    }


def _seconds(pass1: list[dict[str, Any]], steps: float, dedup: float, write: float) -> dict:
    """Wall time of each pass, and pass 1's task time split by step (summed over tasks)."""
    per_step: Counter[str] = Counter()
    for r in pass1:
        per_step.update(r["seconds"])
    return {
        "pass1_wall": round(steps, 3),
        "pass1_tasks_by_step": {k: round(v, 3) for k, v in per_step.most_common()},
        "dedup_wall": round(dedup, 3),
        "write_wall": round(write, 3),
    }


@STAGES.register("curate")
class CurateStage(Stage):
    name = "curate"
    after = ("ingest",)
    # 2: batched byte-level MinHash, opt-out record per rule; 3: infringing sites;
    # 4: dedup as tasks, kept documents carry meta.dup_cluster_size
    version = 4

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

        # Pass 2: exact + near duplicate clusters as tasks over every shard's keys.
        drop_paths = [work / "drops" / f"{n}.json" for n in names]
        dedup = run_dedup(
            ctx, cfg.dedup, [work / "keys" / f"{n}.parquet" for n in names], drop_paths
        )
        dedup = {"docs": sum(r["survivors"] for r in pass1), "scope": cfg.dedup.scope, **dedup}

        # Pass 3: write the survivors, one task per shard (own task folder and markers).
        out_docs = ctx.out / "docs"
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
        pass3 = run_tasks(light_context(ctx, work / "write"), write_tasks, desc="curate write")
        t3 = time.monotonic()

        samples = merge_samples(
            [work / "samples" / n for n in names] + [work / "dedup-samples" / n for n in names],
            ctx.out / "dropped",
        )
        record = self._record(cfg.steps, pass1, pass3, dedup, samples)
        record["optout_protocols"] = _optout_protocols(
            _optout_files(recipe), cfg.optout, Counter(record["dropped_by_reason"])
        )
        record["seconds"] = _seconds(pass1, t1 - t0, t2 - t1, t3 - t2)
        shutil.rmtree(work / "docs", ignore_errors=True)  # copies of the kept documents
        ctx.log.info(
            "curate: %d in, %d kept, %d dropped, %d quarantined; steps %.1fs (%.0f docs/s), "
            "dedup %.1fs, write %.1fs",
            record["docs_in"],
            record["docs_kept"],
            record["docs_dropped"],
            record["quarantined"],
            t1 - t0,
            record["docs_in"] / max(t1 - t0, 1e-9),
            t2 - t1,
            t3 - t2,
        )
        return CurateRecord.model_validate(record).dump()

    @staticmethod
    def _record(
        step_names: list[str],
        pass1: list[dict[str, Any]],
        pass3: list[dict[str, Any]],
        dedup: dict[str, Any],
        samples: dict[str, int],
    ) -> dict[str, Any]:
        steps = StepStats.merge([r["steps"] for r in pass1] + [r["steps"] for r in pass3])
        docs_in = sum(r["docs_in"] for r in pass1)
        kept: Counter[str] = Counter()
        for r in pass3:
            kept.update(r["kept"])
        dropped = _sum_dropped(steps)
        quarantined: Counter[str] = Counter()
        for r in pass1:
            quarantined.update(r["quarantined"])
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
            "steps": {s: steps.get(s, {}) for s in dict.fromkeys([*STEPS, *step_names])},
            **merge_parts(step_names, pass1, dropped),  # relabelled, pii, optout, decontam, ...
            "dedup": dedup,
            "dropped_samples": samples,
        }
