"""The evaluation a run does: bits per byte per language, MC tasks, checkpoint curves."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from openeurollm.data.docstore import read_documents
from openeurollm.eval.bpb import bits_per_byte
from openeurollm.eval.generation import generator_for
from openeurollm.eval.metrics import macro_mean_with_ci
from openeurollm.eval.scorer import Scorer
from openeurollm.eval.tasks import load_task, load_template, score_instances, summarize
from openeurollm.eval.tasks.generative import GenInstance, score_generations
from openeurollm.eval.tasks.template import TaskTemplate
from openeurollm.tokenizer.encoder import TextTokenizer

log = logging.getLogger("openeurollm")
SOURCE = "openeurollm"


@dataclass
class TaskRun:
    """A recipe task resolved to paths (what the stage hands to `run_task`)."""

    name: str
    template: str
    path: Path
    languages: list[str]
    num_fewshot: int
    seed: int
    limit: int | None
    formulation: str | None = None  # overrides the template's, when set
    normalization: str | None = None


def resolve_template(task: TaskRun, base_dir: Path | None = None) -> TaskTemplate:
    """The task's template with the recipe's overrides applied."""
    template = load_template(task.template, base_dir)
    overrides = {k: v for k, v in (("formulation", task.formulation),
                                   ("normalization", task.normalization)) if v is not None}  # fmt: skip
    return template.model_copy(update=overrides) if overrides else template


def missing_languages(task: TaskRun, keys: Sequence[str]) -> list[str]:
    """Requested languages that the task's data does not cover (reported, never scored 0)."""
    covered = {part for key in keys for part in key.split("-")}
    return sorted(set(task.languages) - covered)


def aggregates(per_language: dict[str, dict[str, Any]], pivot: str | None = None) -> dict[str, Any]:
    """The EU aggregate: the macro mean over languages with its interval ("macro"); a
    translation task gets one per direction ("from_en" over en-xx, "into_en" over xx-en)."""
    if not pivot:
        return {"macro": macro_mean_with_ci(per_language)}
    groups: dict[str, dict[str, dict[str, Any]]] = {f"from_{pivot}": {}, f"into_{pivot}": {}}
    for key, entry in per_language.items():
        direction = f"from_{pivot}" if key.startswith(f"{pivot}-") else f"into_{pivot}"
        groups[direction][key] = entry
    return {name: macro_mean_with_ci(entries) for name, entries in groups.items()}


def heldout_texts(
    heldout_dir: Path, languages: Sequence[str], max_docs: int | None
) -> dict[str, list[str]]:
    out = {}
    for lang in languages:
        path = heldout_dir / f"{lang}.parquet"
        if not path.is_file():
            continue
        texts = [doc.text for doc in read_documents(path)]
        out[lang] = texts[:max_docs] if max_docs else texts
    return out


def run_bpb(
    scorer: Scorer, tok: TextTokenizer, texts: dict[str, list[str]], window: int
) -> dict[str, dict[str, float | int]]:
    return {
        lang: bits_per_byte(scorer, tok.encode_batch, t, window, tok.eos_id, desc=f"bpb {lang}")
        for lang, t in sorted(texts.items())
    }


def run_task(
    scorer: Scorer, tok: TextTokenizer, task: TaskRun, base_dir: Path | None = None
) -> dict[str, Any]:
    template = resolve_template(task, base_dir)
    per_lang, skipped = load_task(
        template, task.path, task.languages, task.num_fewshot, task.seed, task.limit
    )
    if template.output_type == "generate_until":
        return _run_generative(scorer, tok, task, template, per_lang, skipped)  # type: ignore[arg-type]
    instances = [inst for lang in sorted(per_lang) for inst in per_lang[lang]]
    t0 = time.monotonic()
    counts: list[list[int]] = []
    lls = (
        score_instances(scorer, tok.encode_batch, instances, tok.eos_id, task.name, counts)
        if instances
        else []
    )
    seconds = time.monotonic() - t0
    results = summarize(instances, lls, counts, template.normalization)
    log.info(
        "eval %s: %d items in %d languages, %d choices scored in %.1fs",
        task.name,
        len(instances),
        len(results),
        sum(len(i.choices) for i in instances),
        seconds,
    )
    return {
        "source": SOURCE,
        "template": template.name,
        "output_type": template.output_type,
        "formulation": template.formulation,
        "normalization": template.normalization,
        "num_fewshot": task.num_fewshot,
        "seed": task.seed,
        "per_language": results,
        "aggregate": aggregates(results),
        "missing_languages": missing_languages(task, list(results)),
        "skipped": skipped,
        "seconds": round(seconds, 3),
    }


def _run_generative(
    scorer: Scorer,
    tok: TextTokenizer,
    task: TaskRun,
    template: TaskTemplate,
    per_key: dict[str, list[GenInstance]],
    skipped: dict[str, int],
) -> dict[str, Any]:
    """Generate greedily for every instance (one batched pass over all keys), then score."""
    instances = [inst for key in sorted(per_key) for inst in per_key[key]]
    gen = generator_for(scorer, tok)
    t0 = time.monotonic()
    texts = gen.generate(
        tok.encode_batch([i.context for i in instances]),
        stop=template.until,
        max_gen_toks=template.max_gen_toks,
        desc=task.name,
    )
    seconds = time.monotonic() - t0
    log.info("eval %s: %d generations in %.1fs", task.name, len(instances), seconds)
    return {
        "source": SOURCE,
        "template": template.name,
        "output_type": template.output_type,
        "num_fewshot": task.num_fewshot,
        "seed": task.seed,
        "per_language": (scores := score_generations(template, instances, texts)),
        "aggregate": aggregates(scores, template.pair_with),
        "missing_languages": missing_languages(task, list(scores)),
        "skipped": skipped,
        "seconds": round(seconds, 3),
        "examples": [
            {"key": i.lang, "id": i.id, "generation": t, "reference": i.reference}
            for i, t in list(zip(instances, texts, strict=True))[:5]
        ],
    }


def run_reference_models(
    folders: Sequence[Path],
    tasks: Sequence[TaskRun],
    batch_size: int,
    max_length: int,
    device: torch.device,
    base_dir: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Every task on every reference model (a Hugging Face folder), keyed
    "<task>@<folder name>", computed exactly as for our model."""
    from openeurollm.eval.hf_model import load_reference

    out = {}
    for folder in folders:
        scorer, tok = load_reference(folder, batch_size, max_length, device)
        for task in tasks:
            entry = run_task(scorer, tok, task, base_dir)  # type: ignore[arg-type]
            out[f"{task.name}@{folder.name}"] = {**entry, "reference_model": folder.name}
    return out


def resolve_device(kind: str) -> torch.device:
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(kind)


def checkpoint_scorers(
    checkpoints_dir: Path, final_step: int, model: torch.nn.Module, scorer: Scorer
) -> Iterator[tuple[int, Scorer]]:
    """(step, a scorer over that checkpoint's weights) for every kept checkpoint before the
    final step, in order; one model copy is reloaded in turn. An unreadable checkpoint
    leaves a gap (logged), not a failed stage."""
    import copy

    from openeurollm.eval.loading import load_checkpoint
    from openeurollm.train.checkpoint import checkpoints

    work = copy.deepcopy(model)
    for step, path in checkpoints(checkpoints_dir):
        if step >= final_step:
            continue  # the final weights are measured by the caller
        try:
            load_checkpoint(path, work)  # type: ignore[arg-type]
        except Exception as exc:
            log.warning("eval: skipping checkpoint %s (%s)", path.name, exc)
            continue
        yield step, Scorer(work, scorer.batch_size, scorer.max_length, scorer.device)


def checkpoint_curves(
    checkpoints_dir: Path,
    final_step: int,
    model: torch.nn.Module,
    scorer: Scorer,
    tok: TextTokenizer,
    texts: dict[str, list[str]],
    window: int,
    final: dict[str, dict[str, Any]] | None = None,
) -> dict[str, list[list[float]]]:
    """Learning curves: bpb per language at every kept checkpoint, then at the final weights
    (`final`: their bpb results when already measured)."""
    curves: dict[str, list[list[float]]] = {lang: [] for lang in texts}
    for step, sc in checkpoint_scorers(checkpoints_dir, final_step, model, scorer):
        for lang, value in run_bpb(sc, tok, texts, window).items():
            curves[lang].append([step, value["bpb"]])
    for lang, value in (final or run_bpb(scorer, tok, texts, window)).items():
        curves[lang].append([final_step, value["bpb"]])
    return curves


def _point(step: int, entry: dict[str, Any]) -> list[Any]:
    ci = entry.get("ci95") or [None, None]
    return [step, entry.get("value"), ci[0], ci[1]]


def checkpoint_task_curves(
    checkpoints_dir: Path,
    final_step: int,
    model: torch.nn.Module,
    scorer: Scorer,
    tok: TextTokenizer,
    tasks: Sequence[TaskRun],
    final: dict[str, dict[str, Any]],
    base_dir: Path | None = None,
) -> dict[str, dict[str, list[list[Any]]]]:
    """Every task's headline score per language (and its EU aggregates) at every kept
    checkpoint, then at the final weights (`final`: the final tasks' results), as
    [step, value, ci low, ci high] points."""
    curves: dict[str, dict[str, list[list[Any]]]] = {t.name: {} for t in tasks}

    def add(step: int, name: str, body: dict[str, Any]) -> None:
        for key, entry in body.get("per_language", {}).items():
            curves[name].setdefault(key, []).append(_point(step, entry))
        for group, agg in (body.get("aggregate") or {}).items():
            if agg:
                curves[name].setdefault(f"EU {group}", []).append(_point(step, agg))

    for step, sc in checkpoint_scorers(checkpoints_dir, final_step, model, scorer):
        for task in tasks:
            add(step, task.name, run_task(sc, tok, task, base_dir))
    for task in tasks:
        add(final_step, task.name, final[task.name])
    return curves
