"""Shared test fixtures. Tests never reach a model hub; shared data is optional and skipped clearly."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DEMO_DATA = REPO / "data" / "demo"


def single_torch_thread():  # -> Iterator[None]
    """Tiny models run single-threaded: on a shared 2-core machine two OpenMP threads per
    process mostly wait for each other (10x slower under load, measured). Subfolders that
    train tiny models use it as an autouse fixture."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"shared multilingual data not found at {SHARED_DATA} (see shared/data/README.md)"
        )
    return SHARED_DATA


# The small end-to-end run: 5 languages of the demo corpus, a tiny vocabulary and a short
# training. Session-scoped so the end-to-end, report, release and leak tests share one run.
SMALL_LANGS = ["de", "el", "fr", "pl", "en"]


def small_recipe(root: Path, *overrides: str):  # -> Recipe
    from openeurollm.config import load_recipe

    return load_recipe(
        REPO / "recipes" / "demo.yaml",
        [
            f"run.root={root}",
            "run.name=small",
            f"curate.languages={json.dumps(SMALL_LANGS)}",
            "tokenizer.vocab_size=1200",
            "train.steps=40",
            "train.checkpoint_every=20",
            "train.log_every=5",
            *overrides,
        ],
    )


@dataclass
class SmallRun:
    root: Path
    run_dir: Path
    manifest: object  # openeurollm.pipeline.manifest.Manifest


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> SmallRun:
    from openeurollm.pipeline.runner import run_pipeline

    root = tmp_path_factory.mktemp("small-run")
    recipe = small_recipe(root)
    manifest = run_pipeline(recipe)
    return SmallRun(root=root, run_dir=recipe.run_dir, manifest=manifest)
