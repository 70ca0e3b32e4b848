"""The CLI as a user meets it: help with examples, one-line errors without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The source under test, also when a test runs the CLI from another working directory.
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openeurollm.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
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


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def _run_bytes(tmp_path: Path, recipe: bytes | Path, *args: bytes | str) -> str:
    cmd = [sys.executable, "-m", "openeurollm.cli", "run", recipe, "--dry-run", *args]
    result = subprocess.run(cmd, capture_output=True, cwd=tmp_path, env=ENV, timeout=120)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    return _one_error_line(subprocess.CompletedProcess(cmd, 2, "", stderr))


def test_non_utf8_arguments_and_long_names_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "docs.jsonl").write_text('{"text": "x"}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text("ingest: {inputs: [{path: docs.jsonl}]}\n")
    assert "is not valid UTF-8" in _run_bytes(tmp_path, recipe, "--set", b"run.name=caf\xe9")
    long_name = _run_bytes(tmp_path, recipe, "--set", "run.name=" + "n" * 300)
    assert "run.name: String should have at most 100" in long_name
    odd = os.fsencode(tmp_path) + b"/r\xff.yaml"
    os.rename(recipe, odd)
    assert "is not valid UTF-8" in _run_bytes(tmp_path, odd)


def test_read_only_run_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "docs.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "r.yaml").write_text("ingest: {inputs: [{path: docs.jsonl}]}\n")
    result = _cli(
        "run", str(tmp_path / "r.yaml"), "--set", "run.root=/sys/oellm-test", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "/sys/oellm-test" in _one_error_line(result)


def test_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    """`openeurollm status RUN | head -1`: the reader is gone before we write."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text('{"format": 1, "stages": {}, "history": []}\n')
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "openeurollm.cli", "status", str(run)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141  # as if killed by SIGPIPE, like other tools in a pipe
