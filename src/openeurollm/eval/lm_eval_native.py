"""lm-eval task YAMLs that let lm-evaluation-harness build the prompts itself.

For every task and language we write the items (our readers' output: the published
fields, plus the scored choices `_choices`, their texts `_texts`, the gold index `_gold`,
or the reference `_reference` and few-shot answer `_answer`) and a YAML whose
`doc_to_text` is the template's prompt as a Jinja template, with the template's
delimiters, `fewshot_split` and `num_fewshot`. lm-eval then renders every prompt, picks the
few-shot examples with its own sampler (seeded through `--seed`) and scores; our own
harness follows the same rules (eval/tasks/fewshot.py), and tests/eval/test_lm_eval_agreement.py
checks that the scores agree, zero- and few-shot.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openeurollm.eval.lm_eval_bridge import (
    SOURCE,
    SUFFIX,
    generate_spec,
    invoke_lm_eval,
    lm_eval_task_name,
    lm_eval_version,
    scores_in_our_names,
    write_jsonl,
    write_yaml,
)
from openeurollm.eval.tasks.formats import Item
from openeurollm.eval.tasks.template import LETTERS, TaskTemplate

_FIELD = re.compile(r"\{(\w+)\}")
# The lettered option list, "A. text\n" per choice, as a Jinja loop over `_texts`.
_OPTIONS_JINJA = "{% for t in _texts %}{{ '" + LETTERS + "'[loop.index0] }}. {{ t }}\n{% endfor %}"


def jinja_prompt(template: TaskTemplate, key: str) -> str:
    """The template's prompt (a Python format string) as the equivalent Jinja template."""
    prompt = template.full_prompt(key)

    def field(match: re.Match[str]) -> str:
        name = match.group(1)
        return _OPTIONS_JINJA if name == "options" else "{{ " + name + " }}"

    return _FIELD.sub(field, prompt)


def _record(template: TaskTemplate, item: Item) -> dict[str, Any] | None:
    try:
        if template.output_type == "generate_until":
            extra = {"_reference": template.reference_of(item), "_answer": template.answer_of(item)}
        else:
            extra = {"_choices": template.choices_of(item), "_texts": template.texts_of(item),
                     "_gold": template.gold_of(item)}  # fmt: skip
    except (KeyError, ValueError, IndexError, TypeError):
        return None  # skipped by our harness too (bad_item)
    return {**item, **extra}


def write_native_task_files(
    task: str,
    template: TaskTemplate,
    keyed: dict[str, tuple[list[Item], list[Item] | None]],
    folder: Path,
    num_fewshot: int,
) -> dict[str, str]:
    """Data + YAML per evaluation key into `folder`; returns {lm-eval task name: key}."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for key, (items, pool) in sorted(keyed.items()):
        name = lm_eval_task_name(task, key)
        rows = [r for r in (_record(template, it) for it in items) if r is not None]
        files = {"test": folder / f"{name}.test.jsonl"}
        write_jsonl(files["test"], rows)
        if pool is not None:
            files["fewshot"] = folder / f"{name}.fewshot.jsonl"
            write_jsonl(files["fewshot"], [r for r in (_record(template, it) for it in pool) if r])
        spec: dict[str, Any] = {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {k: str(v.resolve()) for k, v in files.items()}},
            "test_split": "test",
            "fewshot_split": "fewshot" if pool is not None else "test",
            "num_fewshot": num_fewshot,
            "doc_to_text": jinja_prompt(template, key),
            "target_delimiter": template.target_delimiter,
            "fewshot_delimiter": template.fewshot_delimiter,
        }
        if template.output_type == "generate_until":
            _, body = generate_spec([], template)
            del body["doc_to_text"]  # ours is the Jinja prompt above, not a prebuilt context
            body.update(doc_to_target="_reference", fewshot_config={"doc_to_target": "_answer"})
        else:
            body = {
                "output_type": "multiple_choice",
                "doc_to_choice": "_choices",
                "doc_to_target": "_gold",
                "metric_list": [
                    {"metric": m, "aggregation": "mean", "higher_is_better": True}
                    for m in ("acc", "acc_norm", "acc_bytes")
                ],
            }
        spec.update(body, metadata={"version": 1.0})
        write_yaml(folder / f"{name}.yaml", spec)
        names[name] = key
    return names


def run_lm_eval_native(
    hf_dir: Path,
    task: str,
    template: TaskTemplate,
    keyed: dict[str, tuple[list[Item], list[Item] | None]],
    work: Path,
    num_fewshot: int,
    seed: int,
    limit: int | None = None,
    batch_size: int = 16,
    max_length: int = 2048,
    threads: int | None = None,
) -> dict[str, Any]:
    """lm-eval builds the prompts and picks the examples itself; our results-file entry."""
    names = write_native_task_files(task, template, keyed, work / "tasks", num_fewshot)
    results, _, cmd, seconds = invoke_lm_eval(
        hf_dir, list(names), work, batch_size, max_length, threads=threads,
        fewshot_seed=seed, limit=limit,
    )  # fmt: skip
    per_key = {}
    for name, key in names.items():
        n = len(keyed[key][0]) if limit is None else min(limit, len(keyed[key][0]))
        per_key[key] = scores_in_our_names(results[name], n)
    return {
        "source": SOURCE,
        "lm_eval_version": lm_eval_version(),
        "backend": "hf",
        "prompts": "built by lm-eval from the task YAML",
        "of_task": task,
        "per_language": dict(sorted(per_key.items())),
        "seconds": round(seconds, 3),
        "command": " ".join(cmd[1:]),
    }


def run_lm_eval_for_stage(ctx, model, tok, tasks, window: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """From the eval stage: export the model to a scratch HF folder, run every task with
    lm-eval building its own prompts; entries are keyed "<task>@lm-eval"."""
    import shutil

    from openeurollm.eval.run import resolve_template
    from openeurollm.eval.tasks.generative import task_items
    from openeurollm.release.hf_export import export_hf

    scratch = ctx.out / ".stage-lm-eval"
    shutil.rmtree(scratch, ignore_errors=True)
    hf_dir = scratch / "hf"
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    export_hf(state, model.args, ctx.input("tokenizer") / "tokenizer.json", hf_dir)
    out = {}
    try:
        for t in tasks:
            template = resolve_template(t, ctx.recipe.base_dir)
            keyed = task_items(template, t.path, t.languages, t.num_fewshot)
            if keyed:
                entry = run_lm_eval_native(
                    hf_dir, t.name, template, keyed, scratch / t.name, t.num_fewshot, t.seed,
                    t.limit, ctx.recipe.eval.batch_size, window,
                )  # fmt: skip
                entry.update(template=template.name, num_fewshot=t.num_fewshot, seed=t.seed)
                out[t.name + SUFFIX] = entry
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out
