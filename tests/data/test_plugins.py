"""A reader, a filter and a curation step from another installed package, used by name.

The example package in tests/assets is pip-installed (offline, no dependencies) into a
temporary target, and a recipe naming its parts runs through the CLI in a fresh process
with that target on the path, as a user's installed plugin would be found."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from openeurollm.data.docstore import read_folder
from tests.data.helpers import paragraph

ASSET = Path(__file__).parents[1] / "assets" / "oellm_example_plugin"
SRC = Path(__file__).parents[2] / "src"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("plugin")
    shutil.copytree(ASSET, work / "pkg")  # the build writes beside the sources
    target = work / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target)]
    offline = ["--no-deps", "--no-index", "--no-build-isolation"]
    subprocess.run(
        [*pip, *offline, str(work / "pkg")],
        check=True,
        capture_output=True,
    )
    return target


def _run(root: Path, plugin_path: Path, curate: dict) -> subprocess.CompletedProcess[str]:
    rng = random.Random(4)
    paragraphs = [" ".join(paragraph("en", rng) for _ in range(2)) for _ in range(6)]
    paragraphs.append(paragraphs[0].upper().replace(".", "!"))  # shouting, not a duplicate
    (root / "notes.en.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    recipe = {
        "run": {"name": "plugin", "root": str(root / "runs")},
        "ingest": {"inputs": [{"path": "notes.en.txt", "format": "paragraphs"}]},
        "curate": {"languages": ["en"], **curate},
    }
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    env = {**os.environ, "PYTHONPATH": f"{plugin_path}{os.pathsep}{SRC}"}
    return subprocess.run(
        [sys.executable, "-m", "openeurollm.cli", "run", "recipe.yaml", "--until", "curate"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_plugin_reader_filter_and_step_run_by_name(plugin_path: Path, tmp_path: Path) -> None:
    curate = {
        "filters": [{"name": "shouting", "params": {"max_upper_share": 0.6}}],
        "steps": ["langid", "length_tag", "filters"],
    }
    done = _run(tmp_path, plugin_path, curate)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((tmp_path / "runs" / "plugin" / "manifest.json").read_text())
    record = manifest["stages"]["curate"]["record"]
    assert record["docs_in"] == 7  # the reader made one document per paragraph
    assert record["dropped_by_reason"] == {"shouting": 1}
    assert record["plugin_steps"]["length_tag"]["length_classes"] == {"long": 7}
    docs = list(read_folder(tmp_path / "runs" / "plugin" / "curate" / "docs"))
    assert len(docs) == 6 and {d.meta["length_class"] for d in docs} == {"long"}


def test_misspelt_plugin_name_gets_did_you_mean(plugin_path: Path, tmp_path: Path) -> None:
    done = _run(tmp_path, plugin_path, {"steps": ["langid", "lenght_tag"]})
    assert done.returncode != 0
    assert "did you mean 'length_tag'" in done.stderr
    assert "Traceback" not in done.stderr
