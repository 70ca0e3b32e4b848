"""docs/recipe-reference.md is generated from the schema; this fails when it is out of date."""

from __future__ import annotations

import subprocess
import sys

from openeurollm.config import Recipe
from openeurollm.recipe_docs import recipe_reference

from .conftest import REPO

DOC = REPO / "docs" / "recipe-reference.md"


def test_recipe_reference_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == recipe_reference(), (
        "docs/recipe-reference.md is out of date: run "
        "`.venv/bin/openeurollm recipe-reference --out docs/recipe-reference.md`"
    )


def test_reference_covers_every_section_and_field() -> None:
    text = recipe_reference()
    for section, field in Recipe.model_fields.items():
        assert f"## `{section}`" in text
        model = field.annotation
        for name in model.model_fields:  # type: ignore[union-attr]
            assert f"| `{name}` |" in text, f"{section}.{name} missing from the reference"
    assert "## `executor.slurm`" in text and "## `ingest.inputs[]`" in text


def test_every_field_is_one_well_formed_table_row() -> None:
    """Multi-line docstrings and pipes in them must not break the Markdown tables."""
    import re

    lines = recipe_reference().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("| `"):
            cells = re.split(r"(?<!\\)\|", line)
            assert len(cells) == 6, f"line {i + 1} has {len(cells) - 2} cells: {line}"
        elif i and lines[i - 1].startswith("| ") and line.strip():
            assert line.startswith("|"), f"line {i + 1} continues a table row: {line}"


def test_check_flag_reports_drift(tmp_path) -> None:
    stale = tmp_path / "ref.md"
    stale.write_text("old\n")
    cmd = [
        sys.executable,
        "-m",
        "openeurollm.cli",
        "recipe-reference",
        "--out",
        str(stale),
        "--check",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "out of date" in result.stderr
    subprocess.run(cmd[:-1], check=True, capture_output=True, timeout=60)
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=60).returncode == 0
