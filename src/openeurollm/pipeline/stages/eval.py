"""eval: bits per byte per language on held-out text, MC tasks, checkpoint learning curves."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from openeurollm.config import Recipe
from openeurollm.io.fileio import write_json
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.records.eval import EvalRecord


def _task_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path] if path.is_file() else []


@STAGES.register("eval")
class EvalStage(Stage):
    name = "eval"
    after = ("train", "tokenizer", "mix")

    def config(self, recipe: Recipe) -> dict[str, Any]:
        cfg = recipe.eval.model_dump(mode="json")
        for task in cfg["tasks"]:
            task.pop("path")  # enters the key through the file digests
        cfg.pop("device")  # where it runs does not change what it computes (beyond rounding)
        return {
            "eval": cfg,
            "window": recipe.train.seq_len,
            "languages": recipe.curate.languages,
            "seed": recipe.run.seed,
        }

    def external_inputs(self, recipe: Recipe) -> list[Path]:
        files = [f for t in recipe.eval.tasks for f in _task_files(recipe.resolve(t.path))]
        for t in recipe.eval.tasks:
            template = recipe.resolve(t.template)
            if template.is_file():
                files.append(template)
        return files

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from openeurollm.eval.loading import load_trained
        from openeurollm.eval.run import (
            checkpoint_curves,
            checkpoint_task_curves,
            heldout_texts,
            resolve_device,
            run_bpb,
            run_reference_models,
            run_task,
        )
        from openeurollm.eval.scorer import Scorer
        from openeurollm.tokenizer.encoder import TextTokenizer

        recipe, cfg = ctx.recipe, ctx.recipe.eval
        t0 = time.monotonic()
        device = resolve_device(cfg.device)
        tok = TextTokenizer.from_file(ctx.input("tokenizer") / "tokenizer.json")
        model = load_trained(ctx.input("train"), device)
        window = recipe.train.seq_len
        scorer = Scorer(model, cfg.batch_size, max_length=window, device=device)
        languages = list(ctx.record("mix").get("languages") or recipe.curate.languages)
        results: dict[str, Any] = {"model": {"params": sum(p.numel() for p in model.parameters())}}

        texts = heldout_texts(ctx.input("mix") / "heldout", languages, cfg.max_heldout_docs)
        if cfg.bpb:
            results["bpb"] = run_bpb(scorer, tok, texts, window)

        tasks = _task_runs(recipe, languages)
        results["tasks"] = {t.name: run_task(scorer, tok, t, recipe.base_dir) for t in tasks}

        if cfg.checkpoints and cfg.bpb and texts:
            final_step = ctx.record("train").get("steps", recipe.train.steps)
            results["checkpoints"] = checkpoint_curves(
                ctx.input("train") / "checkpoints",
                final_step,
                model,
                scorer,
                tok,
                texts,
                window,
                final=results["bpb"],
            )

        if cfg.reference_models and tasks:
            folders = [recipe.resolve(f) for f in cfg.reference_models]
            results["tasks"].update(
                run_reference_models(
                    folders, tasks, cfg.batch_size, window, device, recipe.base_dir
                )
            )

        if cfg.checkpoint_tasks and tasks:
            results["checkpoint_tasks"] = checkpoint_task_curves(
                ctx.input("train") / "checkpoints",
                ctx.record("train").get("steps", recipe.train.steps),
                model, scorer, tok, tasks, results["tasks"], recipe.base_dir,
            )  # fmt: skip

        if cfg.lm_eval and tasks:
            from openeurollm.eval.lm_eval_native import run_lm_eval_for_stage

            results["tasks"].update(run_lm_eval_for_stage(ctx, model, tok, tasks, window))

        results["seconds"] = round(time.monotonic() - t0, 3)
        results["device"] = str(device)
        write_json(ctx.out / "results.json", results)
        return _record(results)


def _task_runs(recipe: Recipe, languages: list[str]) -> list[Any]:
    """The recipe's eval tasks resolved to paths, languages and seeds."""
    from openeurollm.eval.run import TaskRun

    return [
        TaskRun(
            name=t.name,
            template=t.template,
            path=recipe.resolve(t.path),
            languages=t.languages or languages,
            num_fewshot=t.num_fewshot,
            seed=t.seed if t.seed is not None else recipe.run.seed,
            limit=t.limit,
            formulation=t.formulation,
            normalization=t.normalization,
        )
        for t in recipe.eval.tasks
    ]


# Per task and language in the record: the headline metric's name, value, 95% interval and
# its method, the chance level, n; acc/acc_norm (multiple choice) as before.
_RECORDED = ("metric", "value", "ci95", "ci_method", "chance", "acc", "acc_norm", "n")


def _record(results: dict[str, Any]) -> dict[str, Any]:
    """The manifest record: per-language headline numbers (details stay in results.json)."""
    bpb = results.get("bpb", {})
    tasks = {}
    for name, body in results.get("tasks", {}).items():
        tasks[name] = {
            "source": body.get("source"),
            "template": body.get("template"),
            "output_type": body.get("output_type"),
            "reference_model": body.get("reference_model"),
            "num_fewshot": body.get("num_fewshot"),
            "per_language": {
                lang: {k: s.get(k) for k in _RECORDED if k in s}
                for lang, s in body.get("per_language", {}).items()
            },
            "aggregate": body.get("aggregate"),
            "missing_languages": body.get("missing_languages"),
        }
    record = {
        "languages": sorted(bpb),
        "bpb": {lang: round(v["bpb"], 6) for lang, v in bpb.items()},
        "perplexity": {lang: round(v["perplexity"], 4) for lang, v in bpb.items()},
        "heldout": {
            lang: {k: v[k] for k in ("docs", "bytes", "tokens")} for lang, v in bpb.items()
        },
        "tasks": tasks,
        "checkpoint_steps": sorted(
            {int(p[0]) for pts in results.get("checkpoints", {}).values() for p in pts}
        ),
        "params": results["model"]["params"],
        "device": results.get("device"),
    }
    return EvalRecord.model_validate(record).dump()
