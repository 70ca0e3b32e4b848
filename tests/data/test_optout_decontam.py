from __future__ import annotations

import json
from pathlib import Path

from openeurollm.data.decontam import Decontaminator
from openeurollm.data.document import Document
from openeurollm.data.optout import OptOutPolicy, document_domain


def test_domain_list_covers_subdomains_and_records_rule(tmp_path: Path) -> None:
    lst = tmp_path / "optout.txt"
    lst.write_text("# publishers that reserved TDM rights\nnews.example\nWWW.Shop.example.\n")
    policy = OptOutPolicy([lst])
    assert policy.decide_domain("news.example").opted_out
    d = policy.decide_domain("blog.news.example")
    assert d.opted_out and d.rule == "domain_list:optout.txt"
    assert policy.decide_domain("shop.example").opted_out
    assert not policy.decide_domain("othernews.example").opted_out
    assert policy.decide_domain("example").rule == "none"


def test_document_domain_from_meta_or_url() -> None:
    doc = Document.new("x", source="https://www.News.example:443/a/b")
    assert document_domain(doc) == "news.example"
    doc.meta["domain"] = "Blog.example"
    assert document_domain(doc) == "blog.example"
    assert document_domain(Document.new("x", source="/data/file.jsonl")) == ""


QUESTION = (
    "A cook wants to make pasta for dinner and puts a large pot on the stove. "
    "What must boil in the pot before the pasta goes in?"
)


def _eval_file(tmp_path: Path) -> Path:
    path = tmp_path / "mc.jsonl"
    items = [
        {"id": "q1", "lang": "en", "question": QUESTION, "choices": ["water", "milk"], "answer": 0},
        {
            "id": "q2",
            "lang": "en",
            "question": "Which season is coldest?",
            "choices": ["winter"],
            "answer": 0,
        },
        {
            "id": "q3",
            "lang": "en",
            "question": "Name the colour of a clear daytime sky in summer here",
            "choices": ["blue"],
            "answer": 0,
        },
    ]
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def test_decontam_finds_shared_13gram_and_names_the_item(tmp_path: Path) -> None:
    dc = Decontaminator(13)
    dc.add_jsonl("mc", _eval_file(tmp_path))
    leaked = "Forum post. " + QUESTION.upper() + " Answer: water, of course."
    match = dc.find(leaked)
    assert match is not None and (match.task, match.item) == ("mc", "q1")
    # Twelve words of the question are not a 13-gram.
    assert dc.find(" ".join(QUESTION.split()[:12])) is None
    # A short item (>= 8 words, < 13) is matched whole; a 4-word one is not indexed.
    assert dc.find("Quiz: name the colour of a clear daytime sky in summer here!").item == "q3"
    assert dc.find("Which season is coldest? Everybody knows.") is None


def test_decontam_empty_index_matches_nothing() -> None:
    assert Decontaminator(13).find(QUESTION) is None


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_robots_txt_snapshot_blocks_ai_agents_by_path(tmp_path: Path) -> None:
    robots = _jsonl(
        tmp_path / "robots.jsonl",
        [
            {"domain": "news.example", "robots_txt": "User-agent: GPTBot\nDisallow: /articles/\n"},
            {"domain": "all.example", "robots_txt": "User-agent: *\nDisallow: /\n"},
            {"domain": "open.example", "robots_txt": "User-agent: *\nDisallow: /admin\n"},
        ],
    )
    policy = OptOutPolicy(robots_snapshots=[robots])
    blocked = policy.decide(Document.new("x", source="https://www.news.example/articles/1"))
    assert (blocked.opted_out, blocked.rule) == (True, "robots_txt:GPTBot")
    assert not policy.decide(Document.new("x", source="https://news.example/about")).opted_out
    assert policy.decide(Document.new("x", source="https://all.example/a")).opted_out
    assert not policy.decide(Document.new("x", source="https://open.example/a")).opted_out
    # Only the configured agents count: a GPTBot-only rule is ignored without GPTBot.
    narrow = OptOutPolicy(robots_snapshots=[robots], ai_user_agents=["CCBot"])
    assert not narrow.decide(Document.new("x", source="https://news.example/articles/1")).opted_out


def test_tdmrep_json_first_matching_location_decides(tmp_path: Path) -> None:
    tdm = _jsonl(
        tmp_path / "tdmrep.jsonl",
        [
            {
                "domain": "press.example",
                "tdmrep": [
                    {"location": "/free/*", "tdm-reservation": 0},
                    {"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://p.example"},
                ],
            }
        ],
    )
    policy = OptOutPolicy(tdmrep_snapshots=[tdm])
    d = policy.decide(Document.new("x", source="https://press.example/news/1"))
    assert (d.opted_out, d.rule) == (True, "tdmrep_json")
    assert not policy.decide(Document.new("x", source="https://press.example/free/1")).opted_out


def test_page_signals_tdm_header_meta_and_noai(tmp_path: Path) -> None:
    policy = OptOutPolicy()
    header = Document.new(
        "x", source="https://a.example/1", tdm_reservation="1", tdm_source="header"
    )
    assert policy.decide(header).rule == "tdmrep_header"
    meta = Document.new("x", source="https://a.example/2", tdm_reservation="1")
    assert policy.decide(meta).rule == "tdmrep_meta"
    assert not policy.decide(
        Document.new("x", source="https://a.example/3", tdm_reservation="0")
    ).opted_out
    noai = Document.new("x", source="https://a.example/4", robots=["noindex", "noai"])
    assert policy.decide(noai).rule == "noai_meta"
    assert not OptOutPolicy(page_signals=False).decide(noai).opted_out


def test_decontam_reads_folder_tasks_through_the_eval_templates(shared_data: Path) -> None:
    """A SIB-200 folder task (not a JSONL file) feeds decontamination through its template."""
    import csv

    dc = Decontaminator(13)
    dc.add_task("sib200", "sib200", shared_data / "sib200", shared_data)
    assert len(dc) > 1000
    with open(shared_data / "sib200" / "de" / "dev.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    sentence = max((r[2] for r in rows[1:]), key=lambda t: len(t.split()))
    page = f"Auf unserer Quizseite steht heute: {sentence} Viel Spaß beim Raten!"
    match = dc.find(page)
    assert match is not None and match.task == "sib200" and match.item.startswith("de:")
    assert (
        dc.find("Ein ganz anderer Text über das Wetter in Hamburg und den Regen im Herbst.") is None
    )
