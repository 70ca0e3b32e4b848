"""Every problem planted in the demo corpus (data/demo/planted.json) is caught by curate."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from openeurollm.config import recipe_from_dict
from openeurollm.data.docstore import read_folder
from openeurollm.pipeline.runner import run_pipeline

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    if not (DEMO / "planted.json").is_file():
        pytest.skip("demo corpus not found at data/demo (planted.json)")
    root = tmp_path_factory.mktemp("planted")
    recipe = recipe_from_dict(
        {
            "run": {"root": str(root), "name": "planted"},
            "executor": {"workers": 1},  # inline: no process pool to start
            "ingest": {"inputs": [{"path": "corpus/*.jsonl", "license": "CC0-1.0"}]},
            "curate": {
                "optout": {
                    "domain_lists": ["optout/domains.txt"],
                    "infringing_lists": ["optout/infringing.txt"],
                }
            },
            "eval": {"tasks": [{"name": "demo_mc", "path": "eval/demo_mc.jsonl"}]},
        },
        base_dir=DEMO,
    )
    manifest = run_pipeline(recipe, until="curate")
    docs = list(read_folder(recipe.run_dir / "curate" / "docs"))
    by_ref: dict[str, list] = {}
    for doc in docs:
        by_ref.setdefault(doc.meta.get("ref", ""), []).append(doc)
    return {
        "planted": json.loads((DEMO / "planted.json").read_text(encoding="utf-8")),
        "record": manifest.entry("curate")["record"],
        "docs": docs,
        "by_ref": by_ref,
        "text": "\n".join(d.text for d in docs),
    }


def _kept(demo, ref: str) -> list:
    return demo["by_ref"].get(ref, [])


def test_exact_duplicates_reduced_to_one(demo) -> None:
    for group in demo["planted"]["exact_duplicates"]:
        assert sum(len(_kept(demo, ref)) for ref in group) == 1, group


def test_normalized_duplicates_reduced_to_one(demo) -> None:
    for group in demo["planted"]["normalized_duplicates"]:
        assert sum(len(_kept(demo, ref)) for ref in group) == 1, group


def test_near_duplicates_reduced(demo) -> None:
    for group in demo["planted"]["near_duplicates"]:
        assert sum(len(_kept(demo, ref)) for ref in group) == 1, group
    assert demo["record"]["dedup"]["near"]["removed"] >= len(demo["planted"]["near_duplicates"])


def test_pii_absent_from_kept_text(demo) -> None:
    for ref, kinds in demo["planted"]["pii"].items():
        for kind, values in kinds.items():
            for value in values:
                assert value not in demo["text"], (ref, kind, value)
        for doc in _kept(demo, ref):
            assert set(doc.meta["pii_masked"]) == {k for k, v in kinds.items() if v}
    totals = Counter()
    for kinds in demo["planted"]["pii"].values():
        totals.update({k: len(v) for k, v in kinds.items() if v})
    assert demo["record"]["pii_total"] == dict(totals)


def test_wrong_language_relabelled(demo) -> None:
    planted = demo["planted"]["wrong_language"]
    for ref, langs in planted.items():
        kept = _kept(demo, ref)
        assert len(kept) == 1, f"{ref}: a clean text in its true language must be kept"
        assert kept[0].lang == langs["true"], ref
        assert kept[0].meta["lang_label"] == langs["labelled"]
        assert demo["record"]["relabelled"].get(f"{langs['labelled']}->{langs['true']}"), ref


def test_spam_dropped(demo) -> None:
    for ref in demo["planted"]["spam"]:
        assert not _kept(demo, ref), ref


def test_optout_dropped_and_recorded_per_domain(demo) -> None:
    for ref in demo["planted"]["optout"]:
        assert not _kept(demo, ref), ref
    decisions = demo["record"]["optout"]
    for domain in demo["planted"]["optout_domains"]:
        assert decisions[domain]["opted_out_docs"] == decisions[domain]["docs"] >= 1
        assert set(decisions[domain]["rules"]) == {"domain_list:domains.txt"}
    assert sorted(demo["record"]["optout_domains_opted_out"]) == sorted(
        demo["planted"]["optout_domains"]
    )
    assert demo["record"]["dropped_by_reason"]["optout_domain_list"] == len(
        demo["planted"]["optout"]
    )


def test_infringing_websites_dropped_and_recorded(demo) -> None:
    for ref in demo["planted"]["infringing"]:
        assert not _kept(demo, ref), ref
    record = demo["record"]["infringing_sites"]
    assert record["lists"] == ["infringing.txt"] and record["domains_listed"] == 2
    assert sorted(record["domains"]) == sorted(demo["planted"]["infringing_domains"])
    assert record["docs_removed"] == len(demo["planted"]["infringing"])
    assert demo["record"]["dropped_by_reason"]["infringing_site"] == record["docs_removed"]
    # not a text-and-data-mining opt-out: kept out of the opt-out decisions
    assert not set(record["domains"]) & set(demo["record"]["optout"])


def test_contaminated_dropped_with_matched_item(demo) -> None:
    matches = demo["record"]["decontam"]["matches"]["demo_mc"]
    for ref, item in demo["planted"]["contamination"].items():
        assert not _kept(demo, ref), ref
        assert matches.get(item, 0) >= 1, item


def test_clean_documents_mostly_kept(demo) -> None:
    per_lang: Counter[str] = Counter()
    for path in sorted((DEMO / "corpus").glob("*.jsonl")):
        if path.stem != "planted":
            per_lang[path.stem] = sum(1 for line in path.open(encoding="utf-8") if line.strip())
    kept: Counter[str] = Counter(
        d.lang for d in demo["docs"] if not d.meta.get("ref", "").startswith("planted")
    )
    for lang, n in per_lang.items():
        assert kept[lang] >= 0.9 * n, (lang, kept[lang], n)


def test_counts_reconcile(demo) -> None:
    rec = demo["record"]
    assert rec["docs_in"] == rec["docs_kept"] + rec["docs_dropped"] + rec["quarantined"]
    assert rec["docs_kept"] == len(demo["docs"])
