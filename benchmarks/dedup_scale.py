"""Peak memory of the dedup tasks as the corpus and the task count grow together.

Builds dedup key shards (the files curate's pass 1 writes: id, language, exact hash and
14 LSH band hashes per document) for N and 4N documents, with shards of a fixed size,
so 4N has 4x the shards and, with `key_ranges` one per shard, 4x the exact and bucket
tasks. Keys are synthetic (random 64-bit band hashes with planted exact copies and near
copies that share some bands): this measures the dedup passes, not MinHash. Every task
runs in a fresh interpreter (as an executor runs it); its peak RSS is its VmHWM.
Beside them: the single-process dedup (`openeurollm.data.dedup.single`) on the same
keys, and the RSS of a fresh interpreter that only imports what the tasks import (the
floor every figure includes). Checks that the task dedup drops exactly the rows the
single-process dedup drops.

The last line is one JSON object:
  benchmark               "dedup_scale"
  docs                    [N, 4N]
  tasks                   [tasks at N, tasks at 4N] (partition + exact + buckets + merge)
  largest_task_mb         peak RSS of the largest task at N and at 4N
  largest_task_kind       which kind of task that was (partition, exact, group, merge)
  largest_ratio           largest_task_mb[1] / largest_task_mb[0] (goal <= 1.10)
  per_kind_mb             {kind: [peak at N, peak at 4N]}
  per_kind_cpu_us_per_doc {kind: [CPU microseconds per document at N, at 4N]}, all tasks
                          of that kind together (the merge is one task: serial time)
  single_process_mb       peak RSS of the single-process dedup at N and at 4N
  floor_mb                RSS of an interpreter with the imports only
  same_result             task dedup drops == single-process drops, at both sizes
  seconds                 wall time of the whole benchmark

Run: .venv/bin/python benchmarks/dedup_scale.py [--docs 200000] [--shard-docs 25000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from openeurollm.config import DedupConfig  # noqa: E402
from openeurollm.data.dedup.keys import FIELDS  # noqa: E402
from openeurollm.data.dedup.single import global_dedup  # noqa: E402
from openeurollm.pipeline.stages.dedup_tasks import plan_dedup  # noqa: E402

BANDS = 14
LANGS = np.array(["en", "de", "fr", "fi"])
FLOOR = "import numpy, pyarrow.parquet, openeurollm.data.dedup.tasks"


def write_keys(folder: Path, docs: int, shard_docs: int, seed: int = 0) -> list[Path]:
    """Synthetic key shards: 3% exact copies, 3% near copies (half their bands shared)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    exact = rng.integers(0, 2**63, docs, dtype=np.uint64)
    bands = rng.integers(0, 2**63, (docs, BANDS), dtype=np.uint64)
    copies = rng.choice(docs, int(0.06 * docs), replace=False)
    sources = rng.integers(0, docs, len(copies))
    half = len(copies) // 2
    exact[copies[:half]] = exact[sources[:half]]
    bands[copies[:half]] = bands[sources[:half]]
    shared = rng.random((len(copies) - half, BANDS)) < 0.5
    near_rows = copies[half:]
    bands[near_rows] = np.where(shared, bands[sources[half:]], bands[near_rows])
    ids = np.char.mod("%032x", rng.integers(0, 2**63, docs, dtype=np.int64)).astype(object)
    langs = LANGS[rng.integers(0, len(LANGS), docs)]
    paths = []
    for start in range(0, docs, shard_docs):
        rows = slice(start, min(start + shard_docs, docs))
        n = rows.stop - rows.start
        columns = {
            "id": ids[rows].tolist(),
            "lang": langs[rows].tolist(),
            "bytes": [1000] * n,
            "words": [150] * n,
            "exact": [f"{x:016x}{x:016x}" for x in exact[rows].tolist()],
        }
        table = pa.table(
            {
                **{name: pa.array(columns[name], type=t) for name, t in FIELDS},
                **{f"band{b}": pa.array(bands[rows, b], pa.uint64()) for b in range(BANDS)},
            }
        )
        paths.append(folder / f"{len(paths):05d}.parquet")
        pq.write_table(table, paths[-1], compression="zstd")
    return paths


def peak_mb(code: str, setup: str = "") -> tuple[float, float]:
    """(peak RSS in MiB, CPU seconds of `code`) of a fresh interpreter running `setup`
    (imports, not timed) and then `code`.

    The peak is its VmHWM after the work, not wait4's ru_maxrss: Linux carries that over
    from the forked copy of this (big) process across exec, so every child would report
    at least our own size. CPU time is process time around `code` (no interpreter start),
    which other load on the machine hardly changes."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    timed = (
        f"import time\n{setup}\n_t = time.process_time()\n{code}\n_t = time.process_time() - _t\n"
    )
    report = "print(_t, [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    out = subprocess.run(
        [sys.executable, "-c", timed + report], env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"benchmark child failed: {out.stderr[-2000:]}")
    cpu, _, kb, _ = out.stdout.strip().splitlines()[-1].split()
    return int(kb) / 1024, float(cpu)


def run_tasks_measured(
    folder: Path, keys: list[Path]
) -> tuple[dict[str, float], dict[str, float], dict, int]:
    """Every dedup task (partition, exact, buckets, merge) in its own interpreter."""
    cfg = DedupConfig(key_ranges=len(keys), band_groups=2)
    drop_paths = [str(folder / "drops" / f"{p.stem}.json") for p in keys]
    plan = plan_dedup(cfg, [str(p) for p in keys], drop_paths, folder)
    peaks: dict[str, float] = {}
    cpu: dict[str, float] = {}
    tasks = [*plan.partition, *plan.find, plan.merge]
    for task in tasks:
        kind = task.name.split("-")[0]
        module, _, name = task.fn.partition(":")
        args = json.dumps(json.dumps(task.args))
        mb, seconds = peak_mb(f"m.{name}(**json.loads({args}))", f"import json, {module} as m")
        peaks[kind] = max(peaks.get(kind, 0.0), mb)
        cpu[kind] = cpu.get(kind, 0.0) + seconds
    drops = {}
    for i, path in enumerate(drop_paths):
        item = json.loads(Path(path).read_text())["drop"]
        if item:
            drops[i] = item
    return peaks, cpu, drops, len(tasks)


def single_measured(keys: list[Path], out: Path) -> tuple[float, dict]:
    code = (
        "import json, sys; from pathlib import Path; "
        "from openeurollm.data.dedup.single import global_dedup; "
        f"r = global_dedup([Path(p) for p in {[str(p) for p in keys]!r}], True, True, {BANDS}); "
        f"Path({str(out)!r}).write_text(json.dumps(r['drops']))"
    )
    mb, _ = peak_mb(code)
    drops = {
        int(i): {r: sorted(rows) for r, rows in d.items()}
        for i, d in json.loads(out.read_text()).items()
    }
    return mb, drops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--shard-docs", type=int, default=25_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    assert global_dedup  # the reference is imported here too, so a broken import fails early
    result: dict = {"benchmark": "dedup_scale", "docs": [], "tasks": [], "per_kind_mb": {}}
    result["per_kind_cpu_us_per_doc"] = {}
    result |= {"largest_task_mb": [], "largest_task_kind": [], "single_process_mb": []}
    same = True
    with tempfile.TemporaryDirectory() as tmp:
        for docs in (args.docs, 4 * args.docs):
            folder = Path(tmp) / str(docs)
            keys = write_keys(folder / "keys", docs, args.shard_docs)
            peaks, cpu, drops, n_tasks = run_tasks_measured(folder / "work", keys)
            single_mb, ref = single_measured(keys, folder / "single.json")
            same &= drops == ref
            kind = max(peaks, key=lambda k: peaks[k])
            result["docs"].append(docs)
            result["tasks"].append(n_tasks)
            result["largest_task_mb"].append(round(peaks[kind], 1))
            result["largest_task_kind"].append(kind)
            result["single_process_mb"].append(round(single_mb, 1))
            for k, mb in peaks.items():
                result["per_kind_mb"].setdefault(k, []).append(round(mb, 1))
                us = 1e6 * cpu[k] / docs
                result["per_kind_cpu_us_per_doc"].setdefault(k, []).append(round(us, 2))
            print(
                f"{docs:>9} docs, {len(keys)} shards, {n_tasks} tasks: largest task {kind} "
                f"{peaks[kind]:.0f} MiB; per kind "
                + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items())
                + f"; single process {single_mb:.0f} MiB; same result: {drops == ref}",
                flush=True,
            )
    result["largest_ratio"] = round(result["largest_task_mb"][1] / result["largest_task_mb"][0], 3)
    result["floor_mb"] = round(peak_mb(FLOOR)[0], 1)
    result["same_result"] = same
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
