"""The whole chain on a small recipe: every stage's outputs are checked, then reuse and partial reruns."""

from __future__ import annotations

import json
import math
import time

import pytest

from openeurollm.pipeline.manifest import Manifest
from openeurollm.pipeline.runner import run_pipeline
from openeurollm.pipeline.stage import STAGE_ORDER
from openeurollm.report.html import SECTIONS

from .conftest import REPO, SMALL_LANGS, SmallRun, small_recipe

LANGS = SMALL_LANGS


def _ran(manifest: Manifest, since: int) -> list[str]:
    """Stages started after history entry number `since`."""
    return [e["stage"] for e in manifest.data["history"][since:] if e["event"] == "start"]


@pytest.mark.slow
def test_end_to_end_small_recipe(small_run: SmallRun) -> None:
    manifest = small_run.manifest
    assert isinstance(manifest, Manifest)
    run = small_run.run_dir
    rec = manifest.records()
    assert all(manifest.is_done(s) for s in STAGE_ORDER)

    # ingest: every input line became a document or a quarantine entry
    lines = sum(1 for p in (REPO / "data" / "demo" / "corpus").glob("*.jsonl") for _ in p.open())
    assert rec["ingest"]["docs"] + sum(rec["ingest"]["quarantined"].values()) == lines

    # curate: counts reconcile, only target languages remain
    cur = rec["curate"]
    assert cur["reconciled"] is True
    assert (
        cur["docs_in"]
        == cur["docs_kept"] + sum(cur["dropped_by_reason"].values()) + cur["quarantined"]
    )
    assert cur["docs_in"] == rec["ingest"]["docs"]
    assert 0 < cur["docs_kept"] < cur["docs_in"]
    assert set(rec["mix"]["languages"]) == set(LANGS)

    # mix: a train and a held-out file per language
    for lang in LANGS:
        assert (run / "mix" / "train" / f"{lang}.parquet").exists()
        assert (run / "mix" / "heldout" / f"{lang}.parquet").exists()

    # tokenizer: loads and round-trips
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(run / "tokenizer" / "tokenizer.json"))
    assert tok.get_vocab_size() <= 1200
    sample = "Grüße aus Αθήνα und Łódź!"
    assert tok.decode(tok.encode(sample).ids) == sample

    # shards: bytes on disk match the recorded token count
    meta = json.loads((run / "shards" / "meta.json").read_text())
    itemsize = 2 if meta["dtype"] == "uint16" else 4
    on_disk = sum(p.stat().st_size for p in (run / "shards").rglob("*.bin"))
    assert on_disk == meta["total_tokens"] * itemsize == rec["shards"]["total_tokens"] * itemsize

    # train: loss fell, weights written
    metrics = [json.loads(x) for x in (run / "train" / "metrics.jsonl").read_text().splitlines()]
    losses = [m["loss"] for m in metrics if "loss" in m]
    assert losses[-1] < losses[0]
    assert (run / "train" / "model.safetensors").exists()

    # eval: finite bits per byte for every language
    results = json.loads((run / "eval" / "results.json").read_text())
    for lang in LANGS:
        bpb = results["bpb"][lang]
        value = bpb["bpb"] if isinstance(bpb, dict) else bpb
        assert math.isfinite(value) and 0 < value < 20

    # release: weights, tokenizer, model card from the records, checksums last
    release = run / "release"
    for name in ("model.safetensors", "config.json", "tokenizer.json", "README.md", "SHA256SUMS"):
        assert (release / name).exists(), name
    card = (release / "README.md").read_text()
    kept = rec["curate"]["docs_kept"]
    assert f"{kept:,}" in card or str(kept) in card
    summary = (release / "training_content_summary.md").read_text()
    seed = manifest.data["recipe"]["run"]["seed"]
    assert (
        f"fine-tunes): none: trained from scratch (random initialization, seed {seed})" in summary
    )
    assert "continuous training after it: no: every training token" in summary

    # report
    page = (run / "report.html").read_text()
    for section in SECTIONS:
        assert f'id="{section}"' in page
    worst = rec["tokenizer"]["worst_parity"]
    assert f"worst {worst['lang']} {worst['parity']:.3f}" in page  # the tokenizer's parity

    # a second run reuses everything
    mark = len(manifest.data["history"])
    t0 = time.monotonic()
    again = run_pipeline(small_recipe(small_run.root))
    assert _ran(again, mark) == [] and time.monotonic() - t0 < 30
    assert again.stages["release"]["output_digest"] == manifest.stages["release"]["output_digest"]

    # changing training reruns only train and what follows it
    mark = len(again.data["history"])
    changed = run_pipeline(small_recipe(small_run.root, "train.steps=30"))
    assert _ran(changed, mark) == ["train", "eval", "release", "report"]
    # put the run back as it was for the other tests that read it
    run_pipeline(small_recipe(small_run.root))


@pytest.mark.slow
def test_release_reports_collection_period_and_domain_sizes(small_run: SmallRun) -> None:
    """The AI Office summary's dates and top-domain sizes come from the documents themselves."""
    days = [
        json.loads(line)["crawl_date"]
        for p in (REPO / "data" / "demo" / "corpus").glob("*.jsonl")
        for line in p.open(encoding="utf-8")
        if '"crawl_date"' in line
    ]
    rec = small_run.manifest.records()  # type: ignore[attr-defined]
    assert (rec["ingest"]["collection_start"], rec["ingest"]["collection_end"]) == (
        min(days),
        max(days),
    )
    release = small_run.run_dir / "release"
    summary = (release / "training_content_summary.md").read_text(encoding="utf-8")
    period = f"{min(days)[5:7]}/{min(days)[:4]}-{max(days)[5:7]}/{max(days)[:4]}"
    assert f"| {period} |" in summary  # the demo dataset's row in 2.1
    assert f"Latest date of data acquisition: {max(days)[5:7]}/{max(days)[:4]};" in summary
    assert "no crawl recorded for this run" in summary  # JSONL datasets, no WARC crawl

    domains = rec["curate"]["optout"]
    assert sum(v["bytes"] for v in domains.values()) <= rec["ingest"]["bytes"]
    table = summary.split("Most relevant domain names", 1)[1].split("###", 1)[0]
    rows = [
        r.split("|")[1:-1] for r in table.splitlines() if r.startswith("| ") and ".example" in r
    ]
    sizes = [int(r[2].strip().replace(",", "")) for r in rows]
    assert rows and sizes == sorted(sizes, reverse=True)
    top = rows[0][0].strip()
    assert (
        sizes[0]
        == domains[top]["bytes"]
        == max(v["bytes"] for d, v in domains.items() if not v["opted_out_docs"])
    )
    croissant = json.loads((release / "croissant.json").read_text(encoding="utf-8"))
    assert croissant["rai:dataCollectionTimeframe"] == f"{min(days)}/{max(days)}"
