"""The CLI as a user meets it: help with examples, one-line errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openeurollm.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_help_shows_examples() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    assert "openeurollm run recipes/demo.yaml --set train.steps=500" in result.stdout
    assert "check-inclusion" in result.stdout


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "curate: {filters: [{name: no_such_filter}]}",
            "curate.filters[0].name: unknown filter 'no_such_filter'",
        ),
        ("train: {lr: -1}", "train.lr: Input should be greater than 0 (got -1)"),
        ("train: {batch_size: lots}", "train.batch_size: Input should be a valid integer"),
        ("ingest: {inputs: [{path: missing/*.jsonl}]}", "ingest.inputs[0].path: no file matches"),
    ],
)
def test_bad_recipe_is_one_clear_line(tmp_path: Path, body: str, expected: str) -> None:
    (tmp_path / "docs.jsonl").write_text('{"text": "x"}\n')
    recipe = tmp_path / "bad.yaml"
    base = "" if body.startswith("ingest") else "ingest: {inputs: [{path: docs.jsonl}]}\n"
    recipe.write_text(base + body + "\n")
    result = _cli("run", str(recipe), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: invalid recipe: ")
    assert expected in lines[0]


def test_bad_set_override_is_reported(tmp_path: Path) -> None:
    (tmp_path / "docs.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "r.yaml").write_text("ingest: {inputs: [{path: docs.jsonl}]}\n")
    result = _cli("run", str(tmp_path / "r.yaml"), "--set", "train.steps=-5", cwd=tmp_path)
    assert result.returncode == 2
    assert "train.steps" in result.stderr and "Traceback" not in result.stderr


def test_status_of_missing_run_is_clear(tmp_path: Path) -> None:
    result = _cli("status", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "not a run directory" in result.stderr


@pytest.mark.slow
def test_status_and_inspect_on_a_finished_run(small_run) -> None:
    import json

    result = _cli("status", str(small_run.run_dir))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert list(rows) == ["ingest", "curate", "mix", "tokenizer", "shards", "train", "eval",
                          "release", "report"]  # fmt: skip
    assert all(row.split()[1] == "done" for row in rows.values())
    records = small_run.manifest.records()
    assert f"kept {records['curate']['docs_kept']:,}" in rows["curate"]
    bpb = records["eval"]["bpb"]
    assert f"bpb {sum(bpb.values()) / len(bpb):.3f} mean of {len(bpb)} languages" in rows["eval"]

    listing = _cli("inspect", str(small_run.run_dir), "--stage", "curate")
    assert listing.returncode == 0 and "dedup_exact" in listing.stdout
    samples = _cli(
        "inspect", str(small_run.run_dir), "--stage", "curate", "--reason", "dedup_exact"
    )
    assert samples.returncode == 0, samples.stderr
    dropped = small_run.run_dir / "curate" / "dropped" / "dedup_exact.jsonl"
    first = json.loads(dropped.read_text(encoding="utf-8").splitlines()[0])
    assert f"--- {first['id']} [{first['lang']}]" in samples.stdout
    typo = _cli("inspect", str(small_run.run_dir), "--stage", "curate", "--reason", "dedup_excat")
    assert typo.returncode == 2 and "did you mean 'dedup_exact'" in typo.stderr
