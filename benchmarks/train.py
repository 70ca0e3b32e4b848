"""Training throughput: our trainer with its best CPU settings vs two minimal loops.

All train the same model (the `debug` flavor, vocabulary 8000) on the same synthetic token
shards with the same batch (16 x 128 tokens), in one process, alternating within each round
so that all see the same machine load. Step times after the warm-up steps (compilation,
allocator) come from the trainer's own metrics.jsonl (logged every step) and from a timer
around each baseline step; tokens/s = tokens per step / median step time, best round of each.
Medians keep a busy machine's spikes out; the ratios are what to read.

  baseline: Transformer + torch.optim.AdamW (defaults) + F.cross_entropy, fp32, eager.
            Goal: trainer / baseline >= 2.
  strong:   the fastest minimal loop with the trainer's own speed choices and nothing else
            (no checkpoints, metrics, callbacks, signals): the same precision (bf16 autocast
            when the settings say bf16), torch.compile of the same scope, the compiled loss,
            fused AdamW, math attention. Goal: trainer / strong >= 0.95, i.e. the trainer's
            bookkeeping costs at most 5%.
  trainer:  openeurollm.train.loop.train with --settings (default: bf16 autocast, fused AdamW,
            the whole model compiled as one graph, loss compiled, math attention, all cores)

Usage: python benchmarks/train.py [--steps 30] [--warmup 10] [--rounds 2] [--settings JSON]
       python benchmarks/train.py --mfu 1B [--mfu-batch 8] [--mfu-seq 2048] [--settings JSON]

With --mfu FLAVOR it measures instead the model FLOPs utilization of our trainer alone on the
best device there is (one GPU when there is one): the flavor at its real vocabulary, bf16,
compiled blocks, fused AdamW; MFU = tokens/s x FLOPs per token (6N + attention) / the
device's peak from the table in train/metrics.py (the median of the metrics rows after the
warm-up). Its last line is:
  {"benchmark": "train_mfu", "flavor": str, "params": int, "device": str, "batch": int,
   "seq_len": int, "steps": int, "warmup": int, "settings": {...}, "tokens_per_s": float,
   "mfu": float | null, "peak_flops": float | null, "flops_per_token": int}

Otherwise the last line of output is one JSON object:
  {"benchmark": "train", "model": "debug", "params": int, "batch": 16, "seq_len": 128,
   "threads": int, "steps": int, "warmup": int, "rounds": int, "settings": {...},
   "baseline_tokens_per_s": float, "strong_tokens_per_s": float,
   "trainer_tokens_per_s": float, "ratio": float, "ratio_vs_strong": float,
   "baseline_rounds": [float], "strong_rounds": [float], "trainer_rounds": [float]}

With --checkpoint-every K it measures instead what a checkpoint costs the steps around it:
the trainer alone, synchronous vs asynchronous (DCP async_save) checkpoints every K steps;
for each, the median time of the steps during which a checkpoint was saved (the step after
each checkpointed step: its metrics row covers the save) over the median of the other steps.
Goal for async: at most 1.2. Last line:
  {"benchmark": "train_checkpoint", "every": int, "steps": int, "sync_ratio": float,
   "async_ratio": float, "sync_step_s": [during, other], "async_step_s": [during, other]}
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from openeurollm.config import TrainConfig
from openeurollm.model.args import num_params
from openeurollm.model.flavors import model_args
from openeurollm.model.llama import Transformer
from openeurollm.shards.writer import ShardWriter
from openeurollm.train.data import TokenWindows
from openeurollm.train.job import Job
from openeurollm.train.loop import train

VOCAB, BATCH, SEQ = 8000, 16, 128
DEFAULT_SETTINGS = {
    "dtype": "bf16",
    "compile": True,
    "compile_scope": "model",
    "deterministic": False,
}


def write_shards(
    root: Path, langs: int = 8, tokens_per_lang: int = 20_000, vocab: int = VOCAB
) -> None:
    """Zipf-distributed token ids (text-like frequencies), one shard per language."""
    rng = np.random.default_rng(0)
    dtype = "uint16" if vocab <= 2**16 else "int32"
    meta_langs = {}
    for i in range(langs):
        lang = f"l{i}"
        with ShardWriter(root, lang, dtype, max_tokens=tokens_per_lang) as writer:
            ids = np.minimum(rng.zipf(1.2, tokens_per_lang), vocab - 1)
            for doc in np.array_split(ids, tokens_per_lang // 200):
                writer.add(doc)
        info = writer.shards
        meta_langs[lang] = {
            "docs": sum(s.docs for s in info),
            "files": [s.path for s in info],
            "tokens": sum(s.tokens for s in info),
        }
    meta = {"dtype": dtype, "vocab_size": vocab, "eos_id": 1, "languages": meta_langs,
            "total_tokens": sum(v["tokens"] for v in meta_langs.values())}  # fmt: skip
    (root / "meta.json").write_text(json.dumps(meta))


def baseline(shards: Path, steps: int, warmup: int) -> float:
    """The minimal loop: what someone would write first."""
    torch.manual_seed(0)
    model = Transformer(model_args("debug", vocab_size=VOCAB))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    windows = TokenWindows(shards, SEQ)
    times = []
    for step in range(steps):
        start = time.perf_counter()
        batch = torch.from_numpy(windows.batch(windows.starts(0, step, BATCH)))
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - start)
    return BATCH * SEQ / float(np.median(times[warmup:]))


def strong_baseline(shards: Path, steps: int, warmup: int, settings: dict) -> float:
    """The minimal loop with the trainer's speed choices (and only those)."""
    import contextlib

    from openeurollm.train.optim import build_optimizer, cross_entropy
    from openeurollm.train.parallel import apply_compile, attention_kernel

    cfg = TrainConfig(steps=steps, batch_size=BATCH, seq_len=SEQ, lr=1e-3, **settings)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(0)
    model = Transformer(model_args("debug", vocab_size=VOCAB))
    if cfg.compile:
        apply_compile(model, cfg.compile_scope)
    loss_fn = torch.compile(cross_entropy, dynamic=False) if cfg.compile else cross_entropy
    optimizer = build_optimizer(model, cfg, torch.device("cpu"))
    bf16 = cfg.dtype == "bf16"
    windows = TokenWindows(shards, SEQ)
    times = []
    for step in range(steps):
        start = time.perf_counter()
        batch = torch.from_numpy(windows.batch(windows.starts(0, step, BATCH)))
        with attention_kernel(torch.device("cpu")):
            cast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
            with cast:
                logits = model(batch[:, :-1])
            loss = loss_fn(logits, batch[:, 1:])
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    return BATCH * SEQ / float(np.median(times[warmup:]))


def trainer(shards: Path, out: Path, steps: int, warmup: int, settings: dict) -> float:
    cfg = TrainConfig(steps=steps, batch_size=BATCH, seq_len=SEQ, lr=1e-3, log_every=1,
                      checkpoint_every=10 * steps, **settings)  # fmt: skip
    job = Job(model=model_args("debug", vocab_size=VOCAB).to_dict(), train=cfg.model_dump(),
              seed=0, shards=str(shards), out=str(out), resume=False)  # fmt: skip
    train(job)
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    # Each row's tokens_per_s covers the one step since the previous row.
    return float(np.median([r["tokens_per_s"] for r in rows if r["step"] > warmup]))


def checkpoint_cost(every: int, steps: int, settings: dict) -> dict:
    """Step time during a checkpoint save over other steps, synchronous vs asynchronous."""
    result: dict = {"benchmark": "train_checkpoint", "every": every, "steps": steps}
    with tempfile.TemporaryDirectory() as tmp:
        shards = Path(tmp) / "shards"
        write_shards(shards)
        for mode in ("sync", "async"):
            out = Path(tmp) / mode
            cfg = TrainConfig(steps=steps, batch_size=BATCH, seq_len=SEQ, lr=1e-3, log_every=1,
                              checkpoint_every=every, keep_last=2,
                              async_checkpoint=mode == "async", **settings)  # fmt: skip
            job = Job(model=model_args("debug", vocab_size=VOCAB).to_dict(),
                      train=cfg.model_dump(), seed=0, shards=str(shards), out=str(out),
                      resume=False)  # fmt: skip
            train(job)
            rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
            step_s = {r["step"]: BATCH * SEQ / r["tokens_per_s"] for r in rows if r["step"] > 1}
            during = [t for s, t in step_s.items() if (s - 1) % every == 0 and s - 1 < steps]
            other = [t for s, t in step_s.items() if (s - 1) % every != 0 and s > every]
            medians = [float(np.median(during)), float(np.median(other))]
            result[f"{mode}_step_s"] = [round(x, 4) for x in medians]
            result[f"{mode}_ratio"] = round(medians[0] / medians[1], 3)
            print(f"{mode}: step during a save {medians[0]:.3f}s, other steps "
                  f"{medians[1]:.3f}s, ratio {medians[0] / medians[1]:.2f}", flush=True)  # fmt: skip
    return result


def mfu(flavor: str, batch: int, seq: int, steps: int, warmup: int, settings: dict) -> dict:
    """Our trainer alone on `flavor` on the best device: tokens/s and MFU from its metrics."""
    margs = model_args(flavor)
    cfg = TrainConfig(steps=steps, batch_size=batch, seq_len=seq, log_every=1,
                      checkpoint_every=10 * steps, **settings)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        shards = Path(tmp) / "shards"
        write_shards(shards, tokens_per_lang=max(20_000, 4 * batch * (seq + 1)),
                     vocab=margs.vocab_size)  # fmt: skip
        job = Job(model=margs.to_dict(), train=cfg.model_dump(), seed=0, shards=str(shards),
                  out=str(Path(tmp) / "run"), resume=False, flavor=flavor)  # fmt: skip
        summary = train(job)
        rows = [
            json.loads(x) for x in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()
        ]
    rows = [r for r in rows if r["step"] > warmup]
    mfus = [r["mfu"] for r in rows if r.get("mfu") is not None]
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else summary["device"]
    tokens_per_s = float(np.median([r["tokens_per_s"] for r in rows]))
    value = float(np.median(mfus)) if mfus else None
    peak = tokens_per_s * summary["flops_per_token"] / value if value else None
    print(f"{flavor} on {device}: {tokens_per_s:,.0f} tokens/s, MFU "
          f"{'n/a' if value is None else f'{100 * value:.1f}%'} (goal >= 45% on a GPU)")  # fmt: skip
    return {
        "benchmark": "train_mfu", "flavor": flavor, "params": num_params(margs),
        "device": device, "batch": batch, "seq_len": seq, "steps": steps, "warmup": warmup,
        "settings": settings, "tokens_per_s": round(tokens_per_s, 1),
        "mfu": None if value is None else round(value, 4),
        "peak_flops": None if peak is None else round(peak), "flops_per_token": summary["flops_per_token"],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--settings", type=json.loads, default=None)
    parser.add_argument("--mfu", metavar="FLAVOR", help="measure MFU of FLAVOR instead")
    parser.add_argument("--mfu-batch", type=int, default=8)
    parser.add_argument("--mfu-seq", type=int, default=2048)
    parser.add_argument("--checkpoint-every", type=int, metavar="K",
                        help="measure the step time around checkpoints every K steps instead")  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.checkpoint_every:
        settings = {"threads": torch.get_num_threads(), **(args.settings or {})}
        print(json.dumps(checkpoint_cost(args.checkpoint_every, args.steps, settings)))
        return 0
    if args.mfu:
        settings = args.settings or {"dtype": "bf16", "compile": True, "deterministic": False}
        result = mfu(args.mfu, args.mfu_batch, args.mfu_seq, args.steps, args.warmup, settings)
        print(json.dumps(result))
        return 0
    args.settings = args.settings or DEFAULT_SETTINGS
    threads = torch.get_num_threads()
    settings = {"threads": threads, **args.settings}
    base_runs, strong_runs, ours_runs = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        shards = Path(tmp) / "shards"
        write_shards(shards)
        for r in range(args.rounds):
            base_runs.append(baseline(shards, args.steps, args.warmup))
            strong_runs.append(strong_baseline(shards, args.steps, args.warmup, settings))
            ours_runs.append(
                trainer(shards, Path(tmp) / f"run{r}", args.steps, args.warmup, settings)
            )
            print(f"round {r + 1}: baseline {base_runs[-1]:.0f} tokens/s, strong "
                  f"{strong_runs[-1]:.0f} tokens/s, trainer {ours_runs[-1]:.0f} tokens/s",
                  flush=True)  # fmt: skip
    base, strong, ours = max(base_runs), max(strong_runs), max(ours_runs)
    ratio = ours / base
    print(f"trainer vs eager fp32 loop: {ratio:.2f}x (goal >= 2x)")
    print(f"trainer vs strong minimal loop: {ours / strong:.3f}x (goal >= 0.95x)")
    result = {
        "benchmark": "train", "model": "debug",
        "params": num_params(model_args("debug", vocab_size=VOCAB)),
        "batch": BATCH, "seq_len": SEQ, "threads": threads, "steps": args.steps,
        "warmup": args.warmup, "rounds": args.rounds, "settings": settings,
        "baseline_tokens_per_s": round(base, 1), "strong_tokens_per_s": round(strong, 1),
        "trainer_tokens_per_s": round(ours, 1),
        "ratio": round(ratio, 3), "ratio_vs_strong": round(ours / strong, 3),
        "baseline_rounds": [round(x, 1) for x in base_runs],
        "strong_rounds": [round(x, 1) for x in strong_runs],
        "trainer_rounds": [round(x, 1) for x in ours_runs],
    }  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
