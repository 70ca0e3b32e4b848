"""Evaluation speed: our scorer and generator vs lm-evaluation-harness (HF backend), same
model, same requests, measured side by side in one run.

Setup: a byte-level BPE tokenizer trained on the chosen languages' text, the `debug` model
flavor (random weights: speed does not depend on them), exported to a Hugging Face folder.

  --task mc        SIB-200 dev, one task per language from our template, k-shot with our
                   seeded examples; (context, choice) requests scored by log-likelihood.
  --task generate  NTREX translation, English <-> each other language, the first --limit
                   sentences, greedy generation of up to --max-gen-toks tokens (the random
                   model never writes the "\\n" stop, so every request runs to the limit: the
                   worst case for us, since a finished request leaves our batch early).

lm-eval gets the same contexts through the bridge (openeurollm.eval.lm_eval_bridge), so
both run identical requests. Timed the same way on both sides, after imports (both warmed
by one run): from the task data on disk to metrics, model loading included.
  ours     load weights + build instances from the data + tokenize + score/generate + metrics
  lm_eval  simple_evaluate(model="hf", ...) on the HF folder: load + build its requests from
           the task YAMLs and data + evaluate + metrics
The two alternate, --repeats times; the best time of each counts. Results of both are
printed; they must agree (accuracy, or the generated texts and chrF++).

The last line is one JSON object:
  benchmark        "eval" (mc) or "eval-generate"
  requests         (context, choice) pairs scored, or generations, per run
  ours_s, lm_eval_s   wall seconds (best of repeats)
  speedup          lm_eval_s / ours_s (goal >= 3)
  max_diff_points  largest per-language |ours - lm-eval| in points (acc x 100, or chrF++)
  same_generations (generate) fraction of requests with identical text
  threads, device, langs, num_fewshot, batch_size, vocab_size, params, machine

Run: .venv/bin/python benchmarks/eval.py [--task mc|generate] [--langs de,en,fr,pl,el]
     [--fewshot 1] [--batch-size 32] [--threads 1] [--device cpu] [--repeats 2]
     [--limit 40] [--max-gen-toks 32] [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def _sib_texts(root: Path, lang: str) -> list[str]:
    with open(root / lang / "train.tsv", encoding="utf-8", newline="") as fh:
        return [row[2] for row in list(csv.reader(fh, delimiter="\t"))[1:]]


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--task", choices=["mc", "generate"], default="mc")
    ap.add_argument("--langs", default="de,en,fr,pl,el")
    ap.add_argument("--fewshot", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--limit", type=int, default=40, help="generate: sentences per direction")
    ap.add_argument("--max-gen-toks", type=int, default=32)
    ap.add_argument("--data", type=Path, default=DATA)
    return ap.parse_args()


def _best_of(fns: dict[str, Callable[[], dict]], repeats: int) -> tuple[dict, dict]:
    """Alternate the sides so that a change in machine load hits both alike; best times."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    results: dict[str, dict] = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.monotonic()
            results[name] = fn()
            times[name].append(time.monotonic() - t0)
    return {k: min(v) for k, v in times.items()}, results


def main() -> None:
    args = _args()
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sib, ntrex = args.data / "sib200", args.data / "ntrex"
    if not sib.is_dir() or not ntrex.is_dir():
        sys.exit(f"SIB-200 / NTREX not found under {args.data} (see shared/data/README.md)")

    import lm_eval
    import torch
    import yaml
    from lm_eval.tasks import TaskManager
    from safetensors.torch import load_file, save_file

    from openeurollm.eval.lm_eval_bridge import write_task_files
    from openeurollm.eval.run import TaskRun, run_task
    from openeurollm.eval.scorer import Scorer
    from openeurollm.eval.tasks import load_task, load_template
    from openeurollm.model.flavors import model_args
    from openeurollm.model.llama import Transformer
    from openeurollm.release.hf_export import export_hf
    from openeurollm.tokenizer.encoder import TextTokenizer
    from openeurollm.tokenizer.train import save_tokenizer, special_tokens, train_bpe

    torch.set_num_threads(args.threads)
    langs = args.langs.split(",")
    t_all = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    texts = [t for lang in langs for t in _sib_texts(sib, lang)]
    tok_path = work / "tokenizer.json"
    save_tokenizer(train_bpe(texts, args.vocab, special_tokens(8)), tok_path)
    tok = TextTokenizer.from_file(tok_path)
    torch.manual_seed(0)
    margs = model_args("debug", vocab_size=tok.vocab_size)
    model = Transformer(margs)
    weights = work / "model.safetensors"
    save_file(model.state_dict(), str(weights))
    hf_dir = work / "hf"
    export_hf(model.state_dict(), margs, tok_path, hf_dir)
    max_length = 512

    generate = args.task == "generate"
    if generate:
        # The built-in translation template with the benchmark's generation length.
        spec = load_template("translation").model_dump() | {"max_gen_toks": args.max_gen_toks}
        (work / "translation.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        template = load_template(str(work / "translation.yaml"))
        task = TaskRun("ntrex", str(work / "translation.yaml"), ntrex, langs, args.fewshot,
                       1234, args.limit)  # fmt: skip
    else:
        template = load_template("sib200")
        task = TaskRun("sib200", "sib200", sib, langs, args.fewshot, 1234, None)
    # The lm-eval side's task files (written once, outside the timer, like our template).
    per_lang, _ = load_task(template, task.path, langs, task.num_fewshot, task.seed, task.limit)
    names = write_task_files(task.name, per_lang, work / "tasks", template)
    instances = [i for key in sorted(per_lang) for i in per_lang[key]]
    requests = len(instances) if generate else sum(len(i.choices) for i in instances)

    def ours() -> dict:
        m = Transformer(margs)
        m.load_state_dict(load_file(str(weights)))
        scorer = Scorer(m.to(args.device), args.batch_size, max_length, args.device)
        result = run_task(scorer, tok, task)
        return result["per_language"]

    manager = TaskManager(include_path=str(work / "tasks"))
    model_args_str = (
        f"pretrained={hf_dir},dtype=float32,max_length={max_length},add_bos_token=False"
    )
    metric = "chrf++" if generate else "acc"

    def theirs() -> dict:
        out = lm_eval.simple_evaluate(
            model="hf", model_args=model_args_str, tasks=list(names), task_manager=manager,
            batch_size=args.batch_size, device=args.device, log_samples=generate,
        )  # fmt: skip
        res = {
            names[n]: {metric: r[f"{metric},none"]} for n, r in out["results"].items() if n in names
        }
        for n, samples in (out.get("samples") or {}).items():
            res[names[n]]["texts"] = [
                s["filtered_resps"][0] for s in sorted(samples, key=lambda s: s["doc_id"])
            ]
        return res

    ours()  # warm both (first-call costs: thread pools, lazy imports)
    theirs()
    best, results = _best_of({"ours": ours, "lm_eval": theirs}, args.repeats)
    ours_res, lm_res = results["ours"], results["lm_eval"]
    scale = 1.0 if generate else 100.0
    value = "value" if generate else "acc"
    diff = max(abs(ours_res[k][value] - lm_res[k][metric]) * scale for k in per_lang)
    for key in sorted(per_lang):
        print(f"{key}: {metric} ours {ours_res[key][value]:.4f}  lm-eval {lm_res[key][metric]:.4f}")
    ours_s, lm_s = best["ours"], best["lm_eval"]
    print(
        f"ours {ours_s:.2f}s  lm-eval {lm_s:.2f}s  speedup {lm_s / ours_s:.2f}x  ({requests} requests)"
    )
    result = {
        "benchmark": "eval-generate" if generate else "eval",
        "requests": requests,
        "ours_s": round(ours_s, 3),
        "lm_eval_s": round(lm_s, 3),
        "speedup": round(lm_s / ours_s, 2),
        "max_diff_points": round(diff, 3),
        "threads": args.threads,
        "device": args.device,
        "langs": langs,
        "num_fewshot": args.fewshot,
        "batch_size": args.batch_size,
        "vocab_size": tok.vocab_size,
        "params": sum(p.numel() for p in model.parameters()),
        "seconds": round(time.monotonic() - t_all, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
    }
    if generate:
        result["max_gen_toks"] = args.max_gen_toks
        result["same_generations"] = _same_generations(
            per_lang, lm_res, tok, model, args, max_length, template
        )
    print(json.dumps(result))


def _same_generations(per_lang, lm_res, tok, model, args, max_length, template) -> float:  # type: ignore[no-untyped-def]
    """Fraction of requests where our greedy text equals lm-eval's (outside the timing)."""
    from openeurollm.eval.generation import our_generator

    gen = our_generator(model, tok, args.batch_size, max_length)
    same = total = 0
    for key, insts in per_lang.items():
        texts = gen.generate(tok.encode_batch([i.context for i in insts]), template.until,
                             template.max_gen_toks)  # fmt: skip
        same += sum(a == b for a, b in zip(texts, lm_res[key]["texts"], strict=True))
        total += len(insts)
    return round(same / total, 4)


if __name__ == "__main__":
    main()
