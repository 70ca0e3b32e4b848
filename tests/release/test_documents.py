"""Every figure in every release document comes from the records: change them all, every
document follows; remove one, they say "not recorded"; provider statements are never guessed."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from openeurollm.config import ReleaseConfig
from openeurollm.release import ai_act, copyright_policy, croissant, datasheet, model_card
from openeurollm.release.facts import NOT_RECORDED, Facts
from openeurollm.release.model_openness import assess

ENTRIES = Path(__file__).parent / "assets" / "entries.json"
RENDERERS = {
    "README.md": model_card.render,
    "datasheet.md": datasheet.render,
    "croissant.json": croissant.render,
    "training_content_summary.md": ai_act.render_training_summary,
    "technical_documentation.md": ai_act.render_annex_xi,
    "downstream_information.md": ai_act.render_annex_xii,
    "copyright_policy.md": copyright_policy.render,
}


def entries() -> dict[str, Any]:
    return json.loads(ENTRIES.read_text(encoding="utf-8"))


def render_all(ent: dict[str, Any], cfg: ReleaseConfig | None = None) -> dict[str, str]:
    facts = Facts(
        ent, cfg or ReleaseConfig(), {"architecture": "Qwen3ForCausalLM"}, today="2026-11-25"
    )
    return {name: render(facts) for name, render in RENDERERS.items()}


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?")
DIGEST = re.compile(r"[0-9a-f]{16,}")  # hex digests: checked apart, not figures
# Numbers the templates print themselves, whatever the records say: section and article
# numbers (1.1 ... 3.3, Art. 51, 53(1)), cited years and references (Gebru et al. 2021,
# C(2025) 5235 of 24 July 2025, RFC 9309, ISO 639, SHA-256, float32, 1e25 FLOPs), the
# version 0.1.0 and date 2026-11-25 the test renders with, shard file names (00000...),
# zeros (kept as zeros below so opt-out decisions keep their shape) and shares that stay
# whole (100.0%).
TEMPLATE_CONSTANTS = {
    "0", "0.0", "0.1", "1", "1.0", "1.1", "1.2", "1.3", "2", "2.0", "2.1", "2.2", "2.3",
    "2.4", "2.5", "2.6", "3", "3.1", "3.2", "3.3", "4", "5", "6", "8", "10", "11", "12",
    "13", "24", "25", "32", "51", "53", "100.0", "256", "639", "1e25", "2021", "2025",
    "2026", "5235,", "9309", *(f"{i:05d}" for i in range(13)),
}  # fmt: skip
VERSION_SENTINEL = "97.98.99"


def _change_every_figure(node: Any, made: list[int]) -> Any:
    """Every non-zero number a new unique value (ints 701,013, 702,026, ...), every date
    2031-07-13: the records of another run, with nothing in common but their shape."""
    if isinstance(node, dict):
        return {k: _change_every_figure(v, made) for k, v in node.items()}
    if isinstance(node, list):
        return [_change_every_figure(v, made) for v in node]
    if isinstance(node, bool) or node is None or node == 0:
        return node
    if isinstance(node, int):
        made.append(700_000 + 1_013 * (len(made) + 1))
        return made[-1]
    if isinstance(node, float):
        made.append(0)
        return 0.5 + 0.0007 * len(made)
    if isinstance(node, str) and re.fullmatch(r"\d{4}-\d\d-\d\d.*", node):
        return "2031-07-13" + node[10:]
    return node


def _numbers(text: str) -> Counter[str]:
    return Counter(NUMBER.findall(DIGEST.sub("", text)))


def test_every_figure_follows_the_records() -> None:
    """Change every figure of every record (and config, versions, dates) at once: each
    document shows the new figures, and every number it still shows unchanged is one the
    template itself prints (a guessed or hard-coded figure would stay and fail here)."""
    base = entries()
    changed, made = copy.deepcopy(base), []
    for entry in changed.values():
        for key in list(entry):
            entry[key] = _change_every_figure(entry[key], made)
        if "versions" in entry:
            entry["versions"] = {name: VERSION_SENTINEL for name in entry["versions"]}
    assert len(made) > 300  # the frozen records hold this many figures
    before, after = render_all(base), render_all(changed)
    new_ints = [f"{v:,}" for v in made if v]
    for name in RENDERERS:
        stayed = set(_numbers(before[name]) & _numbers(after[name]))
        assert stayed <= TEMPLATE_CONSTANTS, (
            f"{name}: not from the records: {stayed - TEMPLATE_CONSTANTS}"
        )
        shown = [v for v in new_ints if v in after[name] or v.replace(",", "") in after[name]]
        assert len(shown) >= 3, f"{name} shows {len(shown)} of the changed figures"
        assert not any(v in before[name] for v in shown)
    assert VERSION_SENTINEL in after["downstream_information.md"]  # Annex XII 1(e) versions
    # The headline figures land where a reader looks for them.
    docs_kept = f"{changed['curate']['record']['docs_kept']:,}"
    tokens_seen = f"{changed['train']['record']['tokens_seen']:,}"
    for name in ("README.md", "datasheet.md", "technical_documentation.md", "croissant.json"):
        assert docs_kept in after[name], name
    for name in ("README.md", "training_content_summary.md", "technical_documentation.md"):
        assert tokens_seen in after[name], name


def test_removed_record_prints_not_recorded() -> None:
    ent = entries()
    params = f"{ent['train']['record']['params']:,}"
    flops = ent["train"]["record"]["total_flops"]
    assert params in render_all(ent)["README.md"]
    del ent["train"]
    docs = render_all(ent)
    for name in ("README.md", "technical_documentation.md", "downstream_information.md"):
        assert params not in docs[name]
        assert NOT_RECORDED in docs[name]
    assert "| Parameters | not recorded" in docs["README.md"]
    assert f"{flops:.3e}" not in docs["technical_documentation.md"]
    assert "| Training compute | not recorded |" in docs["technical_documentation.md"]


def test_removed_field_of_a_record_prints_not_recorded() -> None:
    ent = entries()
    del ent["train"]["record"]["energy_kwh"]
    docs = render_all(ent)
    assert "| Energy | not recorded" in docs["README.md"]
    assert "| Energy | not recorded |" in docs["technical_documentation.md"]


def test_provider_statements_are_never_guessed() -> None:
    docs = render_all(entries(), ReleaseConfig(contact=None, intended_uses=None))
    assert "not provided (set release.contact in the recipe)" in docs["README.md"]
    assert "not provided (set release.intended_uses" in docs["technical_documentation.md"]
    given = render_all(entries(), ReleaseConfig(contact="ai@example.eu", user_data=False))
    assert "ai@example.eu" in given["README.md"]
    assert (
        "- Data from user interactions with the model: No" in given["training_content_summary.md"]
    )


def test_training_summary_has_every_template_section() -> None:
    text = render_all(entries())["training_content_summary.md"]
    for heading in ("1.1 Provider", "1.2 Model", "1.3 Modalities", "2.1 Publicly", "2.2 Private",
                    "2.3 Data crawled", "2.4 User data", "2.5 Synthetic", "2.6 Other",
                    "3.1 Respect", "3.2 Removal", "3.3 Other"):  # fmt: skip
        assert f"### {heading}" in text, heading
    # the recorded opt-out decision is what the summary and the copyright policy describe
    opted = entries()["curate"]["record"]["optout_domains_opted_out"]
    assert opted and all(d in text for d in opted)
    assert all(d in render_all(entries())["copyright_policy.md"] for d in opted)


def test_model_card_metadata() -> None:
    card = render_all(entries())["README.md"]
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["language"] == sorted(entries()["mix"]["record"]["languages"])
    assert meta["license"] == "apache-2.0"
    results = meta["model-index"][0]["results"]
    bpb = entries()["eval"]["record"]["bpb"]
    got = {
        r["dataset"]["config"]: r["metrics"][0]["value"]
        for r in results
        if r["task"]["type"] == "text-generation"
    }
    assert got == {lang: round(v, 4) for lang, v in bpb.items()}


def test_croissant_validates_with_mlcroissant(tmp_path: Path) -> None:
    mlc = pytest.importorskip("mlcroissant")
    path = tmp_path / "croissant.json"
    path.write_text(render_all(entries())["croissant.json"], encoding="utf-8")
    dataset = mlc.Dataset(jsonld=path)  # raises ValidationError on a non-conforming document
    assert dataset.metadata.name.endswith("-training-data")
    assert [rs.name for rs in dataset.metadata.record_sets] == ["documents"]


def test_openness_class_follows_the_folder_contents(tmp_path: Path) -> None:
    facts = Facts(entries(), ReleaseConfig(), {})
    for name in ("config.json", "model.safetensors", "technical_documentation.md",
                 "eval_results.json", "README.md", "datasheet.md"):  # fmt: skip
        (tmp_path / name).write_text("x")
    assert assess(tmp_path, facts)["class"].startswith("Class III")
    (tmp_path / "datasheet.md").unlink()
    result = assess(tmp_path, facts)
    assert result["class"].startswith("none")
    assert "Data card" in result["missing"]["Class III - Open Model"]
    (tmp_path / "datasheet.md").write_text("x")
    closed = Facts(entries(), ReleaseConfig(documents_license="LicenseRef-proprietary"), {})
    assert assess(tmp_path, closed)["class"].startswith("none")


@pytest.mark.parametrize(("sme", "listed"), [(False, 2_500), (True, 1_000)])
def test_top_domains_follow_the_template_rule(sme: bool, listed: int) -> None:
    """Top 10% of domains by size of content; SMEs: top 5% or 1,000, whichever is lower."""
    ent = entries()
    ent["curate"]["record"]["optout"] = {
        f"d{i:05d}.example": {"docs": 1, "bytes": 10 + i, "opted_out_docs": 0, "rules": {"none": 1}}
        for i in range(25_000)
    }
    summary = ai_act.render_training_summary(
        Facts(ent, ReleaseConfig(sme=sme), {}, today="2026-11-25")
    )
    table = summary.split("Most relevant domain names", 1)[1].split("###", 1)[0]
    rows = [r for r in table.splitlines() if ".example |" in r]
    assert len(rows) == listed
    assert rows[0].startswith("| d24999.example | 1 | 25,009 |")  # the largest first
    assert f"top {listed} of 25000 domains" in summary


def test_crawler_named_from_the_warcinfo_record() -> None:
    ent = entries()
    before = render_all(ent)["training_content_summary.md"]
    assert "- Crawler name(s): not recorded" in before
    ent["ingest"]["record"]["crawler"] = {
        "user_agent": "ExampleBot/1.0",
        "software": "ExampleNutch 1.0",
        "operator": "Example Crawl Team",
        "robots_policy": "obey",
        "crawls": ["EXAMPLE-CRAWL-2025-10"],
        "files": 3,
    }
    text = render_all(ent)["training_content_summary.md"]
    assert "whether they were crawled by or on behalf of the provider: not provided" in text
    own = render_all(ent, ReleaseConfig(crawled_by_provider=True))["training_content_summary.md"]
    assert "- Crawlers used by or on behalf of the provider: Yes" in own
    assert (
        "- Crawler name(s): ExampleBot/1.0 (software: ExampleNutch 1.0; operator: Example Crawl "
        "Team; crawls: EXAMPLE-CRAWL-2025-10)" in text
    )
    assert (
        "- General behaviour of the crawler(s): robots.txt: obey (as declared in the warcinfo "
        "records of 3 WARC file(s))" in text
    )


def test_infringing_website_lists_are_reported_as_applied() -> None:
    ent = entries()
    ent["curate"]["record"].pop("infringing_sites", None)
    assert (
        "persistently infringing copyright: not recorded" in render_all(ent)["copyright_policy.md"]
    )
    ent["curate"]["record"]["infringing_sites"] = {"lists": [], "docs_removed": 0, "domains": {}}
    none = render_all(ent)
    for name in ("copyright_policy.md", "training_content_summary.md"):
        assert "no list of such websites was configured for this run" in none[name], name
    ent["curate"]["record"]["infringing_sites"] = {
        "lists": ["eu-list.txt"],
        "domains_listed": 1234,
        "docs_removed": 56,
        "domains": {"a.example": 50, "b.example": 6},
    }
    applied = render_all(ent)
    expected = "list(s) eu-list.txt (1,234 domains) applied; 56 documents from 2 listed domain(s)"
    for name in ("copyright_policy.md", "training_content_summary.md"):
        assert expected in applied[name], name
