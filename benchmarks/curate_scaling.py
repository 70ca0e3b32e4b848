"""Where the curate stage's time goes, and whether its per-document cost is flat in size.

Runs ingest + curate on benchmarks/curate.py's generated corpus (random 5-sentence NTREX
documents in 24 languages, 3% exact and 3% near copies) at three sizes with one local
worker, and reads the time split from the curate record (`seconds`: pass 1 split by
step, summed over tasks; dedup and write passes as wall time). Per-document costs that
stay flat across the three sizes are what docs/scaling.md extrapolates from.

The last line is one JSON object:
  benchmark            "curate_scaling"
  sizes                [n1, n2, n3] documents
  docs_per_s_per_core  whole curate stage, per size
  us_per_doc           {part: [cost at n1, n2, n3]} in microseconds per input document,
                       parts: every pass-1 step, dedup_keys, other (read, write, counting),
                       dedup (all dedup tasks), write (pass 3), total
  disk_bytes_per_doc   {ingest, curate_docs, dedup_work} bytes per input document (largest size)
  machine              CPU model and cores

Run: .venv/bin/python benchmarks/curate_scaling.py [--sizes 5000,10000,20000] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from benchmarks.curate import _machine, _ntrex, _write_corpus  # noqa: E402

from openeurollm.config import recipe_from_dict  # noqa: E402
from openeurollm.pipeline.runner import run_pipeline  # noqa: E402


def _bytes_under(folder: Path, pattern: str = "*.parquet") -> int:
    return sum(p.stat().st_size for p in folder.rglob(pattern) if p.is_file())


def measure(ntrex: dict[str, list[str]], docs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="curate-scaling-") as tmp:
        root = Path(tmp)
        (root / "corpus").mkdir()
        _write_corpus(root / "corpus", ntrex, docs, files=8)
        recipe = recipe_from_dict(
            {
                "run": {"root": str(root / "runs"), "name": "scaling"},
                "executor": {"workers": 1},
                "ingest": {"inputs": [{"path": "corpus/*.jsonl"}]},
            },
            base_dir=root,
        )
        run_pipeline(recipe, until="ingest")
        start = time.perf_counter()
        record = run_pipeline(recipe, until="curate").entry("curate")["record"]
        wall = time.perf_counter() - start
        run = root / "runs" / "scaling"
        disk = {
            "ingest": _bytes_under(run / "ingest" / "docs") / docs,
            "curate_docs": _bytes_under(run / "curate" / "docs") / docs,
            # keys, partitions, buckets, drop lists: the dedup intermediates
            "dedup_work": _bytes_under(run / "curate" / ".stage-work", "*") / docs,
        }
    sec = record["seconds"]
    parts = dict(sec["pass1_tasks_by_step"])
    parts |= {"dedup": sec["dedup_wall"], "write": sec["write_wall"], "total": wall}
    return {
        "us": {k: 1e6 * v / docs for k, v in parts.items()},
        "rate": docs / wall,
        "disk": disk,
        "kept": record["docs_kept"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,10000,20000")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    ntrex = _ntrex(args.data)
    results = []
    for n in sizes:
        r = measure(ntrex, n)
        results.append(r)
        split = ", ".join(f"{k} {v:.0f}" for k, v in r["us"].items())
        print(f"{n:>7} docs: {r['rate']:.0f} docs/s/core; us/doc: {split}", flush=True)
    names = list(results[-1]["us"])
    print(
        json.dumps(
            {
                "benchmark": "curate_scaling",
                "sizes": sizes,
                "docs_per_s_per_core": [round(r["rate"], 1) for r in results],
                "us_per_doc": {k: [round(r["us"].get(k, 0.0), 1) for r in results] for k in names},
                "disk_bytes_per_doc": {k: round(v) for k, v in results[-1]["disk"].items()},
                "machine": _machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
