"""Multiple-choice evaluation speed: our scorer vs lm-evaluation-harness (HF backend), same
model, same requests, measured side by side in one run.

Setup: a byte-level BPE tokenizer trained on SIB-200 train sentences of the chosen
languages, the `debug` model flavor (random weights: speed does not depend on them),
exported to a Hugging Face folder. Task: SIB-200 dev, one task per language generated from
our template, k-shot with our seeded examples; lm-eval gets the same contexts through the
bridge (openeurollm.eval.lm_eval_bridge), so both score identical (context, choice) requests.

Timed, after imports (both sides warmed by one tiny run):
  ours     load our weights (safetensors) + build requests + score + per-language metrics
  lm_eval  lm_eval.simple_evaluate(model="hf", ...) on the HF folder (load + evaluate)
The two alternate, --repeats times; the best time of each counts. Accuracy of both is printed; they must agree.

The last line is one JSON object:
  benchmark        "eval"
  requests         (context, choice) pairs scored per run
  ours_s, lm_eval_s   wall seconds (best of repeats)
  speedup          lm_eval_s / ours_s (goal >= 3)
  max_acc_diff_points   largest per-language |acc ours - acc lm-eval| x 100
  threads, device, langs, num_fewshot, batch_size, vocab_size, params, machine

Run: .venv/bin/python benchmarks/eval.py [--langs de,en,fr,pl,el] [--fewshot 1]
     [--batch-size 32] [--threads 1] [--device cpu] [--repeats 2] [--data DIR]
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _sib_texts(root: Path, lang: str) -> list[str]:
    with open(root / lang / "train.tsv", encoding="utf-8", newline="") as fh:
        return [row[2] for row in list(csv.reader(fh, delimiter="\t"))[1:]]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--langs", default="de,en,fr,pl,el")
    ap.add_argument("--fewshot", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "sib200")
    args = ap.parse_args()
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if not args.data.is_dir():
        sys.exit(f"SIB-200 not found at {args.data} (see shared/data/README.md)")

    import lm_eval
    import torch
    from lm_eval.tasks import TaskManager
    from safetensors.torch import load_file

    from openeurollm.eval.lm_eval_bridge import write_task_files
    from openeurollm.eval.scorer import Scorer
    from openeurollm.eval.tasks import load_task, load_template, score_instances, summarize
    from openeurollm.model.flavors import model_args
    from openeurollm.model.llama import Transformer
    from openeurollm.release.hf_export import export_hf
    from openeurollm.tokenizer.encoder import TextTokenizer
    from openeurollm.tokenizer.train import save_tokenizer, special_tokens, train_bpe

    torch.set_num_threads(args.threads)
    langs = args.langs.split(",")
    t_all = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    texts = [t for lang in langs for t in _sib_texts(args.data, lang)]
    tok_path = work / "tokenizer.json"
    save_tokenizer(train_bpe(texts, args.vocab, special_tokens(8)), tok_path)
    tok = TextTokenizer.from_file(tok_path)
    torch.manual_seed(0)
    margs = model_args("debug", vocab_size=tok.vocab_size)
    model = Transformer(margs)
    weights = work / "model.safetensors"
    from safetensors.torch import save_file

    save_file(model.state_dict(), str(weights))
    hf_dir = work / "hf"
    export_hf(model.state_dict(), margs, tok_path, hf_dir)
    max_length = 512

    template = load_template("sib200")
    per_lang, _ = load_task(template, args.data, langs, args.fewshot, 1234)
    names = write_task_files("sib200", per_lang, work / "tasks")
    instances = [i for lang in sorted(per_lang) for i in per_lang[lang]]
    requests = sum(len(i.choices) for i in instances)

    def ours() -> dict:
        m = Transformer(margs)
        m.load_state_dict(load_file(str(weights)))
        scorer = Scorer(m.to(args.device), args.batch_size, max_length, args.device)
        lls = score_instances(scorer, tok.encode_batch, instances, tok.eos_id)
        return summarize(instances, lls)

    manager = TaskManager(include_path=str(work / "tasks"))
    model_args_str = (
        f"pretrained={hf_dir},dtype=float32,max_length={max_length},add_bos_token=False"
    )

    def theirs() -> dict:
        out = lm_eval.simple_evaluate(
            model="hf",
            model_args=model_args_str,
            tasks=list(names),
            task_manager=manager,
            batch_size=args.batch_size,
            device=args.device,
            log_samples=False,
        )
        return {names[n]: {"acc": r["acc,none"]} for n, r in out["results"].items() if n in names}

    # Alternate the two so that a change in machine load hits both alike; best of repeats.
    times: dict[str, list[float]] = {"ours": [], "lm_eval": []}
    ours_res: dict = {}
    lm_res: dict = {}
    for _ in range(args.repeats):
        t0 = time.monotonic()
        ours_res = ours()
        times["ours"].append(time.monotonic() - t0)
        t0 = time.monotonic()
        lm_res = theirs()
        times["lm_eval"].append(time.monotonic() - t0)
    ours_s, lm_s = min(times["ours"]), min(times["lm_eval"])
    diff = max(abs(ours_res[lang]["acc"] - lm_res[lang]["acc"]) * 100 for lang in per_lang)
    for lang in sorted(per_lang):
        print(f"{lang}: acc ours {ours_res[lang]['acc']:.4f}  lm-eval {lm_res[lang]['acc']:.4f}")
    print(
        f"ours {ours_s:.2f}s  lm-eval {lm_s:.2f}s  speedup {lm_s / ours_s:.2f}x  ({requests} requests)"
    )
    result = {
        "benchmark": "eval",
        "requests": requests,
        "ours_s": round(ours_s, 3),
        "lm_eval_s": round(lm_s, 3),
        "speedup": round(lm_s / ours_s, 2),
        "max_acc_diff_points": round(diff, 3),
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
    print(json.dumps(result))


if __name__ == "__main__":
    main()
