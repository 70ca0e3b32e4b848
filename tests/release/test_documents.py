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
# numbers (1.1 ... 3.3, Art. 51, 53(1), Recital 103, the 10^23 FLOP criterion), cited years and references (Gebru et al. 2021,
# C(2025) 5235 of 24 July 2025, RFC 9309, ISO 639, SHA-256, float32, 1e25 FLOPs), the
# version 0.1.0 and date 2026-11-25 the test renders with, shard file names (00000...),
# zeros (kept as zeros below so opt-out decisions keep their shape) and shares that stay
# whole (100.0%).
TEMPLATE_CONSTANTS = {
    "0", "0.0", "0.1", "1", "1.0", "1.1", "1.2", "1.3", "2", "2.0", "2.1", "2.2", "2.3",
    "2.4", "2.5", "2.6", "3", "3.1", "3.2", "3.3", "4", "5", "6", "8", "10", "11", "12",
    "13", "23", "24", "25", "32", "51", "53", "100.0", "103", "256", "639", "1e25", "2021", "2025",
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
    if isinstance(node, str) and re.search(r"(?<![\w.-])[1-9]\d{2,}(?![\w.-])", node):
        # A figure inside a sentence a stage wrote (e.g. "seed 1234"): a new one too.
        made.append(700_000 + 1_013 * (len(made) + 1))
        return re.sub(r"(?<![\w.-])[1-9]\d{2,}(?![\w.-])", str(made[-1]), node)
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
    ent["train"]["record"]["energy_kwh"] = None
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


def test_croissant_record_set_reads_every_shipped_file(tmp_path: Path) -> None:
    """The record set spans every Parquet file of the shipped dataset (a field sourced from
    one file read 34 of 833 documents), inside the release, with a citation."""
    mlc = pytest.importorskip("mlcroissant")
    from openeurollm.data.docstore import write_documents
    from openeurollm.data.document import Document

    folder = tmp_path / "data" / "curated"
    texts = {"a.parquet": ["Erstes Dokument.", "Zweites Dokument."], "b.parquet": ["Trzeci."]}
    for name, items in texts.items():
        write_documents(folder / name, [Document.new(t, lang="de", source="x") for t in items])
    facts = Facts(
        entries(),
        ReleaseConfig(homepage="https://example.org/model"),
        {"dataset": {"folder": "data/curated", "files": sorted(texts)}},
        today="2026-11-25",
    )
    path = tmp_path / "croissant.json"
    path.write_text(croissant.render(facts), encoding="utf-8")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["url"] == "https://example.org/model" and "@misc{" in doc["citeAs"]
    assert all(not d.get("contentUrl", "").startswith("curate/") for d in doc["distribution"])
    dataset = mlc.Dataset(jsonld=path)  # raises ValidationError on a non-conforming document
    assert [rs.name for rs in dataset.metadata.record_sets] == ["documents"]
    assert len(list(dataset.records("documents"))) == 3


def test_croissant_without_shipped_data_has_no_url_guess() -> None:
    doc = json.loads(render_all(entries())["croissant.json"])
    assert "url" not in doc  # "README.md" is not a URL
    assert doc["distribution"] == [] and "not part of this release" in doc["description"]


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


def test_infringing_lists_name_the_issuer_the_recipe_states() -> None:
    ent = entries()
    none = render_all(ent)
    for name in ("copyright_policy.md", "training_content_summary.md"):
        assert "not applied: no list of such websites was given for this run" in none[name], name
        assert "recognised by EU or EEA courts" not in none[name], name
    ent["curate"]["record"]["infringing_sites"] = {
        "lists": ["eu-list.txt"],
        "domains_listed": 1234,
        "docs_removed": 56,
        "domains": {"a.example": 50, "b.example": 6},
    }
    unsaid = render_all(ent)
    said = render_all(ent, ReleaseConfig(infringing_lists_issuer="the provider's own research"))
    expected = (
        "applied: list(s) eu-list.txt (1,234 domains; issued by: {}); 56 documents from 2 "
        "listed domain(s) removed"
    )
    for name in ("copyright_policy.md", "training_content_summary.md"):
        assert expected.format("the provider's own research") in said[name], name
        assert (
            expected.format("not provided (set release.infringing_lists_issuer in the recipe)")
            in unsaid[name]
        ), name


PROTOCOLS = {
    "domain_lists": ["domains.txt"],
    "domains_listed": 3,
    "robots_snapshots": [],
    "tdmrep_snapshots": [],
    "ai_user_agents": ["GPTBot", "CCBot"],
    "page_signals": True,
    "docs_removed_by_rule": {"optout_domain_list": 7},
}


def test_optout_statements_name_only_the_protocols_the_run_had_input_for() -> None:
    ent = entries()
    ent["curate"]["record"]["optout_protocols"] = PROTOCOLS
    docs = render_all(ent)
    for name in ("training_content_summary.md", "copyright_policy.md", "datasheet.md"):
        text = docs[name]
        assert "| Domain lists of reserved rights | applied | domains.txt (3 domains) | 7 |" in text
        assert "| robots.txt snapshots (RFC 9309) | not applied |" in text, name
        assert "GPTBot" not in text, name  # the AI user agents matter only with a snapshot
        assert (
            "| Page signals (TDMRep header or meta, robots noai) | not applied | no input" in text
        )
    ent["curate"]["record"]["optout_protocols"] = PROTOCOLS | {
        "robots_snapshots": ["robots.jsonl"],
        "docs_removed_by_rule": {"optout_domain_list": 7, "optout_robots_txt": 2},
    }
    ent["ingest"]["record"]["sources"][0]["format"] = "warc"
    text = render_all(ent)["copyright_policy.md"]
    assert "| robots.txt (RFC 9309) snapshots" not in text
    assert "robots.jsonl (disallowing any of: GPTBot, CCBot) | 2 |" in text
    assert "| applied | read from the pages of 1 WARC file(s) | 0 |" in text


def test_openness_labels_classes_correctly_and_lists_each_file_once(tmp_path: Path) -> None:
    facts = Facts(entries(), ReleaseConfig(), {})
    (tmp_path / "config.json").write_text("{}")
    components = {c["name"]: c for c in assess(tmp_path, facts)["components"]}
    assert components["Model architecture"]["description"] == "MOF class III component"
    assert components["Datasets"]["description"] == "MOF class I component"
    locations = [c["location"] for c in components.values()]
    assert locations.count("config.json") == 1


def test_one_release_date_in_every_document(tmp_path: Path) -> None:
    from openeurollm.release import documentation_form
    from openeurollm.release.model_openness import write_model_openness

    for date in ("2026-12-01", None):
        facts = Facts(entries(), ReleaseConfig(release_date=date), {}, today="2026-11-25")
        shown = date or "not provided (set release.release_date"
        assert f"| Release date | {shown}" in model_card.render(facts)
        assert json.loads(croissant.render(facts)).get("datePublished") == date
        write_model_openness(tmp_path, facts)
        mof = yaml.safe_load((tmp_path / "model_openness.yaml").read_text())
        assert mof["release"]["date"].startswith(shown)
        form = {x["field"]: x["value"] for x in documentation_form.build(facts)["fields"]}
        assert form["Release date"].startswith(shown)


def test_amounts_say_what_they_count() -> None:
    ent = entries()
    ent["mix"]["record"]["distinct_train_docs"] = 751
    docs = render_all(ent)
    for name in ("training_content_summary.md", "technical_documentation.md", "datasheet.md"):
        text = docs[name]
        assert "distinct tokens" not in text, name
        assert "- distinct documents trained on: 751" in text, name
        assert "- passes over the token shards (tokens seen / tokens in the shards): 2.465" in text
        assert "- bytes of text in the training mix (repeats counted): " in text, name
    assert "751 of them trained on" in docs["croissant.json"]


def test_per_document_licences_are_counted() -> None:
    ent = entries()
    source = ent["ingest"]["record"]["sources"][0]
    source["licenses"] = {"CC-BY-4.0": 10, "CC0-1.0": source["docs"] - 10}
    docs = render_all(ent)
    for name in ("training_content_summary.md", "datasheet.md", "README.md"):
        assert "CC-BY-4.0 (10 documents)" in docs[name], name
    assert "https://spdx.org/licenses/CC-BY-4.0.html" in docs["croissant.json"]


def test_public_datasets_are_the_providers_statement() -> None:
    from openeurollm.config import DatasetStatement

    name = entries()["ingest"]["record"]["sources"][0]["name"]
    unsaid = render_all(entries())["training_content_summary.md"]
    assert f"whether {name} is publicly available: not provided" in unsaid
    said = render_all(
        entries(),
        ReleaseConfig(datasets={name: DatasetStatement(public=True, link="https://example.org/d")}),
    )["training_content_summary.md"]
    assert "- Publicly available datasets used: Yes: 1 dataset(s), below" in said
    assert f"| {name} | https://example.org/d |" in said


def test_legal_position_states_thresholds_and_open_source_exemption() -> None:
    text = render_all(entries())["technical_documentation.md"]
    assert "- Below 10^23 FLOP, the indicative criterion" in text
    assert "- Below 10^25 FLOP, the presumption of systemic risk (Art. 51(2))." in text
    assert "Apache-2.0 is a free and open-source licence" in text
    assert "copyright policy (Art. 53(1)(c)" in text and "trained from scratch" in text
    closed = render_all(entries(), ReleaseConfig(license="LicenseRef-own"))
    assert "Art. 53(2): not claimed" in closed["technical_documentation.md"]
    risky = render_all(entries(), ReleaseConfig(systemic_risk=True))
    assert "Art. 53(2): does not apply" in risky["technical_documentation.md"]


def test_summary_states_synthetic_data_sme_rule_and_versions() -> None:
    docs = render_all(entries(), ReleaseConfig(synthetic_data=False, sme=True))
    summary = docs["training_content_summary.md"]
    assert "- Synthetic data generated by or for the provider in the input: No." in summary
    assert "the provider is an SME (release.sme), so the top 5% of domains or 1,000" in summary
    for name in ("technical_documentation.md", "downstream_information.md"):
        assert "- Version of this document: 0.1.0" in docs[name], name


def test_model_documentation_form_fills_every_field_with_audiences() -> None:
    from openeurollm.release import documentation_form

    ent = entries()
    ent["train"]["record"]["energy_kwh"] = 1234.0
    facts = Facts(ent, ReleaseConfig(), {"weights_sha256": "ab" * 32}, today="2026-11-25")
    form = documentation_form.build(facts)
    everyone = {"AI Office", "national competent authorities", "downstream providers"}
    for item in form["fields"]:
        assert item["value"] and set(item["audiences"]) <= everyone, item
    values = {x["field"]: x for x in form["fields"]}
    assert values["Energy used for training"]["value"] == "1.2e+00 MWh"
    assert values["Energy used for training"]["audiences"] == [
        "AI Office",
        "national competent authorities",
    ]
    assert values["Size range"]["value"] == "1-500M"
    assert values["Training time (national authorities: range)"]["value"] == "<1 month"
    assert values["Benchmarked computation for inference"]["value"].startswith(
        "estimated, not benchmarked: 4.0e+11 FLOP"
    )
    assert values["Acceptable use policy"]["value"] == (
        "not provided (set release.acceptable_use_policy in the recipe)"
    )
    assert "| Compute | Energy used for training | 1.2e+00 MWh |" in documentation_form.render(
        facts
    )


def test_new_summary_links_the_previous_one_and_states_changes() -> None:
    from openeurollm.release import summary_versions

    before = entries()
    old = json.loads(
        summary_versions.render_json(Facts(before, ReleaseConfig(), {}, today="2026-06-01"))
    )
    after = entries()
    sources = after["ingest"]["record"]["sources"]
    sources.append(dict(sources[0], name="new-crawl", docs=5, bytes=700))
    after["curate"]["record"]["optout_protocols"] = PROTOCOLS
    info = {"previous_summary": {"data": old, "sha256": "cd" * 32}}
    text = render_all_with(after, info)["training_content_summary.md"]
    section = text.split("## Changes since the previous version", 1)[1]
    assert "version 0.1.0 of openeurollm-demo-0.1.0, last updated 2026-06-01" in section
    assert f"SHA-256 {'cd' * 32}" in section
    assert "| new-crawl | added | - | 5 | +700 |" in section
    assert "| Domain lists of reserved rights | not applied | applied | - | 7 |" in section
    first = render_all(before)["training_content_summary.md"]
    assert "No previous version is linked" in first


def render_all_with(ent: dict[str, Any], info: dict[str, Any]) -> dict[str, str]:
    facts = Facts(
        ent, ReleaseConfig(), {"architecture": "Qwen3ForCausalLM", **info}, today="2026-11-25"
    )
    return {name: render(facts) for name, render in RENDERERS.items()}


def test_previous_summary_ships_beside_the_new_one(tmp_path: Path) -> None:
    from openeurollm.errors import InputError
    from openeurollm.io.fileio import file_sha256
    from openeurollm.release import summary_versions

    previous = tmp_path / "old.json"
    previous.write_text(summary_versions.render_json(Facts(entries(), ReleaseConfig(), {})))
    out = tmp_path / "release"
    out.mkdir()
    shipped = summary_versions.ship_previous(out, previous)
    copy = out / summary_versions.PREVIOUS_JSON
    assert copy.read_bytes() == previous.read_bytes()
    assert shipped["sha256"] == file_sha256(previous) and shipped["data"]["version"] == "0.1.0"
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(InputError, match=r"not a training_content_summary\.json"):
        summary_versions.ship_previous(out, tmp_path / "other.json")
