"""Bridge to lm-evaluation-harness: the same tasks, scored by `lm_eval --model hf`.

For every task and language we write a local JSONL data file and an lm-eval task YAML
(`dataset_path: json`, no hub). Each record carries the full context our template built
(few-shot examples included, chosen with our seed), the choices and the gold index (or, for
generation, the reference, stop sequences and length), so both harnesses score exactly the
same requests and any difference comes from the scoring or decoding (agreement tests,
benchmarks). lm-eval runs offline on a Hugging Face folder (the release export). Results
are stored beside ours with `"source": "lm-evaluation-harness"`. The eval stage uses
lm_eval_native instead, where lm-eval builds the prompts itself; this module also holds
what both share (running `lm_eval`, reading its results).
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
from openeurollm.eval.metrics import EXACT_MATCH_REGEXES
from openeurollm.eval.tasks import GenInstance, MCInstance
from openeurollm.eval.tasks.template import TaskTemplate
from openeurollm.io.fileio import atomic_open

SOURCE = "lm-evaluation-harness"
SUFFIX = "@lm-eval"


def lm_eval_task_name(task: str, lang: str) -> str:
    return "oellm_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{task}_{lang}")


def _mc_spec(instances: Sequence[MCInstance]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    records = [
        {"id": i.id, "context": i.context, "choices": list(i.choices), "gold": i.gold}
        for i in instances
    ]
    delimiters = {inst.target_delimiter for inst in instances}
    spec = {
        "output_type": "multiple_choice",
        "doc_to_text": "context",
        "doc_to_choice": "choices",
        "doc_to_target": "gold",
        "target_delimiter": delimiters.pop() if len(delimiters) == 1 else " ",
        "metric_list": [
            {"metric": "acc", "aggregation": "mean", "higher_is_better": True},
            {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True},
        ],
    }
    return records, spec


def generate_spec(
    instances: Sequence[GenInstance], template: TaskTemplate
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    records = [{"id": i.id, "context": i.context, "reference": i.reference} for i in instances]
    if template.metric == "chrf++":
        metric = {"metric": "chrf++", "aggregation": "chrf++", "higher_is_better": True}
    else:  # our normalize_answer, spelled in exact_match's options
        metric = {"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                  "ignore_case": True, "regexes_to_ignore": EXACT_MATCH_REGEXES}  # fmt: skip
    spec = {
        "output_type": "generate_until",
        "doc_to_text": "context",
        "doc_to_target": "reference",
        "generation_kwargs": {
            "until": list(template.until),
            "max_gen_toks": template.max_gen_toks,
            "do_sample": False,
        },
        "metric_list": [metric],
    }
    if template.extract:  # our extract_answer, as lm-eval's regex filter
        spec["filter_list"] = [{"name": "extract", "filter": [
            {"function": "regex", "regex_pattern": template.extract},
            {"function": "take_first"},
        ]}]  # fmt: skip
    return records, spec


def write_task_files(
    task: str,
    per_lang: dict[str, Sequence[MCInstance]] | dict[str, Sequence[GenInstance]],
    folder: Path,
    template: TaskTemplate | None = None,
) -> dict[str, str]:
    """Write data + YAML per language into `folder`; returns {lm-eval task name: lang}.
    Generative instances need their `template` (stop sequences, length, metric)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for lang, instances in sorted(per_lang.items()):
        name = lm_eval_task_name(task, lang)
        data = folder / f"{name}.jsonl"
        if instances and isinstance(instances[0], GenInstance):
            if template is None:
                raise ValueError("generative instances need their template")
            records, body = generate_spec(instances, template)  # type: ignore[arg-type]
        else:
            records, body = _mc_spec(instances)  # type: ignore[arg-type]
        write_jsonl(data, records)
        spec = {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(data.resolve())}},
            "test_split": "test",
            **body,
            "num_fewshot": 0,  # our few-shot examples are already in the context
            "metadata": {"version": 1.0},
        }
        write_yaml(folder / f"{name}.yaml", spec)
        names[name] = lang
    return names


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def write_yaml(path: Path, spec: dict[str, Any]) -> None:
    with atomic_open(path) as fh:
        yaml.safe_dump(spec, fh, sort_keys=False, allow_unicode=True)


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


def scores_in_our_names(r: dict[str, Any], n: int) -> dict[str, Any]:
    """lm-eval's result entry in our naming: acc/acc_norm, or the generative metric."""
    out: dict[str, Any] = {"n": n}
    for metric in ("acc", "acc_norm", "chrf++", "exact_match"):
        for key, value in r.items():  # "<metric>,<filter>": none, or our "extract"
            name, _, flt = key.partition(",")
            if name == metric:
                out[metric] = value
                stderr = r.get(f"{metric}_stderr,{flt}")
                out[f"{metric}_stderr"] = stderr if isinstance(stderr, float) else None
    return out


def invoke_lm_eval(
    hf_dir: Path,
    task_names: Sequence[str],
    work: Path,
    batch_size: int = 16,
    max_length: int = 2048,
    device: str = "cpu",
    threads: int | None = None,
    log_samples: bool = False,
    fewshot_seed: int | None = None,
    limit: int | None = None,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], list[str], float]:
    """One `lm_eval` process over task YAMLs already written to work/tasks: (its results
    per task name, its logged samples per task name, the command, seconds).
    `fewshot_seed` seeds lm-eval's few-shot sampler; `limit` evaluates the first items."""
    cmd = lm_eval_command(
        hf_dir, list(task_names), work / "tasks", work / "out", batch_size, max_length, device
    )
    if log_samples:
        cmd.append("--log_samples")
    if fewshot_seed is not None:  # python, numpy, torch, few-shot sampler
        cmd += ["--seed", f"0,1234,1234,{fewshot_seed}"]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    t0 = time.monotonic()
    done = subprocess.run(cmd, env=offline_env(threads), capture_output=True, text=True)
    seconds = time.monotonic() - t0
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise StageError(f"lm_eval failed (exit {done.returncode}):\n{tail}")
    found = sorted((work / "out").rglob("results_*.json"))
    if not found:
        raise StageError(f"lm_eval wrote no results under {work / 'out'}")
    results = json.loads(found[-1].read_text(encoding="utf-8"))["results"]
    samples: dict[str, list[dict[str, Any]]] = {}
    for name in task_names if log_samples else []:
        files = sorted((work / "out").rglob(f"samples_{name}_*.jsonl"))
        lines = files[-1].read_text(encoding="utf-8").splitlines() if files else []
        samples[name] = [json.loads(line) for line in lines if line.strip()]
    return results, samples, cmd, seconds


def lm_eval_version() -> str:
    try:
        from importlib.metadata import version

        return version("lm_eval")
    except Exception:  # lm-eval installed under another distribution name
        return "unknown"


def run_lm_eval(
    hf_dir: Path,
    task: str,
    per_lang: dict[str, Sequence[MCInstance]] | dict[str, Sequence[GenInstance]],
    work: Path,
    batch_size: int = 16,
    max_length: int = 2048,
    device: str = "cpu",
    threads: int | None = None,
    template: TaskTemplate | None = None,
) -> dict[str, Any]:
    """Run lm_eval on `hf_dir` for one task in every language; our results-file entry."""
    names = write_task_files(task, per_lang, work / "tasks", template)
    results, _, cmd, seconds = invoke_lm_eval(
        hf_dir, list(names), work, batch_size, max_length, device, threads
    )
    per_language = {lang: scores_in_our_names(results[name], len(per_lang[lang]))
                    for name, lang in names.items()}  # fmt: skip
    return {
        "source": SOURCE,
        "lm_eval_version": lm_eval_version(),
        "backend": "hf",
        "of_task": task,
        "per_language": dict(sorted(per_language.items())),
        "seconds": round(seconds, 3),
        "command": " ".join(cmd[1:]),
    }
