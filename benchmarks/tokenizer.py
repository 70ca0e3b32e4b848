"""Tokenizer fairness and speed, measured side by side in one run.

Trains three tokenizers with the same trainer and vocabulary size (default 32k) on the
shared data (NTREX lines 1-1,200 + UDHR, all 24 EU languages):

  parity_aware   ours: uniform language balance + parity-aware rounds, steered by parity on
                 the aligned training lines 1-1,200
  balanced       uniform language balance, no rounds (plain balanced BPE)
  natural_en10x  natural mix in which English has ten times the text of every other language

and prints, for each, per-language parity on aligned NTREX lines 1,201-1,500 that no
tokenizer trained on (tokens of a sentence / tokens of its English version, averaged).
Goal for parity_aware: no language above 1.30, mean over languages at most 1.15.
Then encoding throughput of our wrapper (`TextTokenizer.encode_batch`) against a bare
`tokenizers.Tokenizer.encode_batch` on the same text (goal: ratio >= 0.9).

The last line is one JSON object:
  benchmark            "tokenizer"
  vocab_size           vocabulary size of all three tokenizers
  rounds               parity-aware rounds of parity_aware
  <name>.max_parity    worst language's parity, and <name>.max_lang which language it is
  <name>.mean_parity   mean parity over the 23 non-English languages
  <name>.en_tokens_per_sentence   English tokens per held-out sentence (what fairness costs English)
  <name>.total_tokens  tokens for the held-out lines of all 24 languages together
  <name>.train_seconds wall time to train (all rounds)
  goal_met             parity_aware max <= 1.30 and mean <= 1.15
  throughput_ratio     median over 15 back-to-back pairs of (bare wall time / our wall time)
                       encoding all 36,000 NTREX lines; >= 0.9 is the goal
  cpu_throughput_ratio the same with CPU time of all threads (steadier on a loaded machine)
  ours_tokens_per_s, bare_tokens_per_s   median wall-clock rates
  seconds              wall time of the whole benchmark

Run: .venv/bin/python benchmarks/tokenizer.py [--vocab 32000] [--rounds 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from tokenizers import Tokenizer

from openeurollm import EU_LANGUAGES
from openeurollm.tokenizer.encoder import TextTokenizer
from openeurollm.tokenizer.fertility import aligned_parity, summarize
from openeurollm.tokenizer.parity import train_parity_aware
from openeurollm.tokenizer.train import save_tokenizer, train_tokenizer

REPO = Path(__file__).resolve().parents[1]
TRAIN_LINES, TEST_START, TEST_END = 1200, 1200, 1500


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _training_text(data: Path, lang: str, copies: int = 1) -> list[str]:
    text = _lines(data / "ntrex" / f"{lang}.txt")[:TRAIN_LINES] + _lines(
        data / "udhr" / f"{lang}.txt"
    )
    return text * copies


def _measure(tok: Tokenizer, test: dict[str, list[str]], seconds: float) -> dict:
    wrapped = TextTokenizer(tok)
    parity = aligned_parity(wrapped, test)
    summary = summarize(parity)
    return {
        "parity": parity,
        "max_parity": summary["worst"]["parity"],
        "max_lang": summary["worst"]["lang"],
        "mean_parity": summary["mean"],
        "en_tokens_per_sentence": round(sum(wrapped.count(test["en"])) / len(test["en"]), 2),
        "total_tokens": sum(sum(wrapped.count(v)) for v in test.values()),
        "train_seconds": round(seconds, 1),
    }


def _throughput(path: Path, texts: list[str], pairs: int = 15) -> dict[str, float]:
    """Our wrapper against bare `tokenizers`, in back-to-back pairs (alternating who goes first).

    Pairing makes load from other processes on a shared machine hit both sides of a ratio
    alike; the medians over pairs are reported, for wall time and for CPU time (all threads).
    """
    ours = TextTokenizer.from_file(path)
    bare = Tokenizer.from_file(str(path))

    def run_ours() -> int:
        return sum(len(ids) for ids in ours.encode_batch(texts))

    def run_bare() -> int:
        return sum(len(e.ids) for e in bare.encode_batch(texts))

    tokens = run_ours()
    if run_bare() != tokens:
        raise SystemExit("our wrapper and bare tokenizers disagree on the token count")
    wall: dict[str, list[float]] = {"ours": [], "bare": []}
    cpu: dict[str, list[float]] = {"ours": [], "bare": []}
    for i in range(pairs):
        for name, fn in (("ours", run_ours), ("bare", run_bare))[:: 1 if i % 2 else -1]:
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)

    def ratio(times: dict[str, list[float]]) -> float:
        return statistics.median(b / o for o, b in zip(times["ours"], times["bare"], strict=True))

    return {
        "ours_tokens_per_s": round(tokens / statistics.median(wall["ours"])),
        "bare_tokens_per_s": round(tokens / statistics.median(wall["bare"])),
        "throughput_ratio": round(ratio(wall), 3),
        "cpu_throughput_ratio": round(ratio(cpu), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--exponent", type=float, default=3.0)
    args = parser.parse_args()
    if not (args.data / "ntrex").is_dir():
        print(f"shared data not found at {args.data} (see shared/data/README.md)", file=sys.stderr)
        return 2
    began = time.perf_counter()
    data = args.data
    ntrex = {lang: _lines(data / "ntrex" / f"{lang}.txt") for lang in EU_LANGUAGES}
    dev = {lang: v[:TRAIN_LINES] for lang, v in ntrex.items()}
    test = {lang: v[TEST_START:TEST_END] for lang, v in ntrex.items()}
    sources = {lang: partial(_training_text, data, lang) for lang in EU_LANGUAGES}
    en10x = dict(sources, en=partial(_training_text, data, "en", 10))

    results: dict[str, dict] = {}
    start = time.perf_counter()
    ours = train_parity_aware(
        sources, args.vocab, rounds=args.rounds, exponent=args.exponent, aligned=dev
    )
    results["parity_aware"] = _measure(ours.tokenizer, test, time.perf_counter() - start)
    start = time.perf_counter()
    plain = train_tokenizer(sources, args.vocab, balance="uniform")
    results["balanced"] = _measure(plain.tokenizer, test, time.perf_counter() - start)
    start = time.perf_counter()
    natural = train_tokenizer(en10x, args.vocab, balance="natural")
    results["natural_en10x"] = _measure(natural.tokenizer, test, time.perf_counter() - start)

    names = list(results)
    print(f"parity on NTREX lines {TEST_START + 1}-{TEST_END} (vocab {args.vocab}):")
    print("lang  " + "  ".join(f"{n:>13}" for n in names))
    for lang in EU_LANGUAGES:
        print(f"{lang:<5} " + "  ".join(f"{results[n]['parity'][lang]:>13.3f}" for n in names))
    for key in ("max_parity", "mean_parity", "en_tokens_per_sentence", "total_tokens"):
        print(f"{key:<24}" + "  ".join(f"{results[n][key]!s:>13}" for n in names))
    print("parity-aware rounds (dev = aligned training lines):")
    for r in ours.rounds:
        mark = " <- kept" if r.get("chosen") else ""
        s = r["summary"]
        print(f"  round {r['round']}: worst {s['worst']} mean {s['mean']}{mark}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tokenizer.json"
        save_tokenizer(ours.tokenizer, path)
        texts = [line for lang in EU_LANGUAGES for line in ntrex[lang]]
        speed = _throughput(path, texts)
    print(
        f"throughput: ours {speed['ours_tokens_per_s']:,} tokens/s, "
        f"bare {speed['bare_tokens_per_s']:,} tokens/s; ratio {speed['throughput_ratio']:.2f}x "
        f"wall, {speed['cpu_throughput_ratio']:.2f}x CPU time"
    )

    pa = results["parity_aware"]
    figures = {
        "benchmark": "tokenizer",
        "vocab_size": args.vocab,
        "rounds": args.rounds,
        **{n: {k: v for k, v in r.items() if k != "parity"} for n, r in results.items()},
        "goal_met": pa["max_parity"] <= 1.30 and pa["mean_parity"] <= 1.15,
        **speed,
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
