"""mix.rehydrate: documents that stood for many duplicates are repeated more, the mix record
says how; without it, cluster sizes change nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from openeurollm.config import recipe_from_dict
from openeurollm.data.docstore import read_folder, write_documents
from openeurollm.data.document import Document
from openeurollm.data.mixture import rehydration_weight
from openeurollm.errors import RecipeError
from openeurollm.pipeline.stage import StageContext
from openeurollm.pipeline.stages.mix import MixStage


def _mix(root: Path, name: str, **mix: object) -> tuple[dict, Counter[str]]:
    (root / "in.jsonl").write_text('{"text": "x"}\n')
    recipe = recipe_from_dict(
        {
            "run": {"name": name, "root": str(root / "runs")},
            "ingest": {"inputs": [{"path": "in.jsonl"}]},
            "mix": {"strategy": "natural", "heldout_docs_per_language": 0, **mix},
        },
        root,
    )
    docs = [
        Document.new(f"document number {i} of the test", lang="en", dup_cluster_size=size)
        for i, size in enumerate([1] * 6 + [2, 2, 5, 40])
    ]
    write_documents(recipe.run_dir / "curate" / "docs" / "000.parquet", docs)
    out = recipe.run_dir / "mix"
    ctx = StageContext(recipe=recipe, run_dir=recipe.run_dir, out=out, key="k", resume=False)
    record = MixStage().run(ctx)
    sizes = Counter(str(d.meta["dup_cluster_size"]) for d in read_folder(out / "train"))
    return record, sizes


def test_weights_pick_the_largest_key_not_above_the_size() -> None:
    weights = {1: 1.0, 2: 2.0, 10: 3.0, 100: 1.0}
    assert [rehydration_weight(s, weights) for s in (1, 2, 9, 10, 99, 100, 5000)] == [
        1.0, 2.0, 2.0, 3.0, 3.0, 1.0, 1.0,
    ]  # fmt: skip
    assert rehydration_weight(7, None) == 1.0


def test_rehydration_repeats_by_cluster_size(tmp_path: Path) -> None:
    plain, plain_sizes = _mix(tmp_path, "plain")
    assert plain_sizes == {"1": 6, "2": 2, "5": 1, "40": 1}
    assert plain["rehydration"]["weights"] is None  # the typed record states: not applied
    assert plain["rehydration"]["docs_reweighted"] is None
    record, sizes = _mix(tmp_path, "rehydrated", rehydrate={1: 1, 2: 2, 10: 3})
    # natural strategy over the weighted sizes: every document repeated by its weight
    assert sizes == {"1": 6, "2": 4, "5": 2, "40": 3}
    assert record["rehydration"]["weights"] == {"1": 1.0, "2": 2.0, "10": 3.0}
    assert record["rehydration"]["docs_reweighted"] == 4
    assert record["train_docs"] == 15


def test_rehydrate_needs_a_weight_for_size_one(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"mix.rehydrate: .*cluster size 1"):
        _mix(tmp_path, "bad", rehydrate={2: 2})
