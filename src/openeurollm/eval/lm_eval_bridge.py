"""Bridge to lm-evaluation-harness: the same tasks, scored by `lm_eval --model hf`.

For every task and language we write a local JSONL data file and an lm-eval task YAML
(`dataset_path: json`, no hub). Each record carries the full context our template built
(few-shot examples included, chosen with our seed), the choices and the gold index, so
both harnesses score exactly the same requests and any difference comes from the scoring.
lm-eval runs offline on a Hugging Face folder (the release export). Results are stored
beside ours with `"source": "lm-evaluation-harness"`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from openeurollm.errors import StageError
from openeurollm.eval.tasks import MCInstance
from openeurollm.io.fileio import atomic_open

SOURCE = "lm-evaluation-harness"
SUFFIX = "@lm-eval"


def lm_eval_task_name(task: str, lang: str) -> str:
    return "oellm_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{task}_{lang}")


def write_task_files(
    task: str, per_lang: dict[str, Sequence[MCInstance]], folder: Path
) -> dict[str, str]:
    """Write data + YAML per language into `folder`; returns {lm-eval task name: lang}."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for lang, instances in sorted(per_lang.items()):
        name = lm_eval_task_name(task, lang)
        data = folder / f"{name}.jsonl"
        with atomic_open(data) as fh:
            for inst in instances:
                rec = {
                    "id": inst.id,
                    "context": inst.context,
                    "choices": list(inst.choices),
                    "gold": inst.gold,
                }
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        delimiters = {inst.target_delimiter for inst in instances}
        spec = {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(data.resolve())}},
            "test_split": "test",
            "output_type": "multiple_choice",
            "doc_to_text": "context",
            "doc_to_choice": "choices",
            "doc_to_target": "gold",
            "target_delimiter": delimiters.pop() if len(delimiters) == 1 else " ",
            "num_fewshot": 0,  # our few-shot examples are already in the context
            "metric_list": [
                {"metric": "acc", "aggregation": "mean", "higher_is_better": True},
                {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True},
            ],
            "metadata": {"version": 1.0},
        }
        with atomic_open(folder / f"{name}.yaml") as fh:
            yaml.safe_dump(spec, fh, sort_keys=False, allow_unicode=True)
        names[name] = lang
    return names


def lm_eval_command(
    hf_dir: Path,
    tasks: Sequence[str],
    include: Path,
    output: Path,
    batch_size: int,
    max_length: int,
    device: str = "cpu",
) -> list[str]:
    exe = shutil.which("lm_eval", path=str(Path(sys.executable).parent)) or "lm_eval"
    return [
        exe, "--model", "hf",
        "--model_args",
        f"pretrained={hf_dir},dtype=float32,max_length={max_length},add_bos_token=False,trust_remote_code=False",
        "--tasks", ",".join(tasks),
        "--include_path", str(include),
        "--batch_size", str(batch_size),
        "--device", device,
        "--output_path", str(output),
    ]  # fmt: skip


def offline_env(threads: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def run_lm_eval(
    hf_dir: Path,
    task: str,
    per_lang: dict[str, Sequence[MCInstance]],
    work: Path,
    batch_size: int = 16,
    max_length: int = 2048,
    device: str = "cpu",
    threads: int | None = None,
) -> dict[str, Any]:
    """Run lm_eval on `hf_dir` for one task in every language; our results-file entry."""
    names = write_task_files(task, per_lang, work / "tasks")
    cmd = lm_eval_command(
        hf_dir, list(names), work / "tasks", work / "out", batch_size, max_length, device
    )
    t0 = time.monotonic()
    done = subprocess.run(cmd, env=offline_env(threads), capture_output=True, text=True)
    seconds = time.monotonic() - t0
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise StageError(f"lm_eval failed (exit {done.returncode}):\n{tail}")
    found = sorted((work / "out").rglob("results_*.json"))
    if not found:
        raise StageError(f"lm_eval wrote no results under {work / 'out'}")
    data = json.loads(found[-1].read_text(encoding="utf-8"))
    per_language = {}
    for name, lang in names.items():
        r = data["results"][name]
        per_language[lang] = {
            "acc": r["acc,none"],
            "acc_norm": r["acc_norm,none"],
            "acc_stderr": r.get("acc_stderr,none"),
            "acc_norm_stderr": r.get("acc_norm_stderr,none"),
            "n": len(per_lang[lang]),
        }
    version = "unknown"
    try:
        from importlib.metadata import version as _v

        version = _v("lm_eval")
    except Exception:  # lm-eval installed under another distribution name
        pass
    return {
        "source": SOURCE,
        "lm_eval_version": version,
        "backend": "hf",
        "of_task": task,
        "per_language": dict(sorted(per_language.items())),
        "seconds": round(seconds, 3),
        "command": " ".join(cmd[1:]),
    }


def run_lm_eval_for_stage(ctx, model, tok, tasks, window: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """From the eval stage: export the model to a scratch HF folder, run every task."""
    from openeurollm.eval.tasks import load_task, load_template
    from openeurollm.release.hf_export import export_hf

    scratch = ctx.out / ".stage-lm-eval"
    shutil.rmtree(scratch, ignore_errors=True)
    hf_dir = scratch / "hf"
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    export_hf(state, model.args, ctx.input("tokenizer") / "tokenizer.json", hf_dir)
    out = {}
    try:
        for t in tasks:
            template = load_template(t.template, ctx.recipe.base_dir)
            per_lang, _ = load_task(
                template, t.path, t.languages, t.num_fewshot, t.seed, t.limit, t.name
            )
            if per_lang:
                entry = run_lm_eval(
                    hf_dir, t.name, per_lang, scratch / t.name, ctx.recipe.eval.batch_size, window
                )
                entry.update(template=template.name, num_fewshot=t.num_fewshot, seed=t.seed)
                out[t.name + SUFFIX] = entry
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out
