"""A crawl (WARC) through ingest and curate: every kind of TDM opt-out decided and recorded."""

from __future__ import annotations

import json
import random
from pathlib import Path

from openeurollm.config import recipe_from_dict
from openeurollm.data.docstore import read_folder
from openeurollm.pipeline.runner import run_pipeline
from tests.data.helpers import (
    CRAWLER_FIELDS,
    paragraph,
    warc_record,
    warcinfo_record,
    write_warc_gz,
)

PAGE = "<html><head><title>t</title>{meta}</head><body><article><p>{p}</p></article></body></html>"


def test_warc_crawl_optouts_recorded_per_domain(tmp_path: Path) -> None:
    rng = random.Random(9)
    pages = {
        "https://free.example/a": ("", None),
        "https://header.example/a": ("", {"tdm-reservation": "1"}),
        "https://meta.example/a": ('<meta name="tdm-reservation" content="1">', None),
        "https://noai.example/a": ('<meta name="robots" content="noai, noimageai">', None),
        "https://robots.example/private/a": ("", None),
        "https://robots.example/public/a": ("", None),
        "https://tdmjson.example/a": ("", None),
        "https://listed.example/a": ("", None),
        "https://films.pirate.example/a": ("", None),  # on the list of infringing websites
    }
    records = [
        warc_record(url, PAGE.format(meta=meta, p=paragraph("en", rng)), headers, n=i)
        for i, (url, (meta, headers)) in enumerate(pages.items())
    ]
    write_warc_gz(tmp_path / "crawl" / "c.warc.gz", [warcinfo_record(CRAWLER_FIELDS), *records])
    (tmp_path / "robots.jsonl").write_text(
        json.dumps(
            {"domain": "robots.example", "robots_txt": "User-agent: CCBot\nDisallow: /private/\n"}
        )
        + "\n"
    )
    (tmp_path / "tdmrep.jsonl").write_text(
        json.dumps(
            {"domain": "tdmjson.example", "tdmrep": [{"location": "/*", "tdm-reservation": 1}]}
        )
        + "\n"
    )
    (tmp_path / "list.txt").write_text("listed.example\n")
    (tmp_path / "infringing.txt").write_text("# recognised by a court\npirate.example\n")
    recipe = recipe_from_dict(
        {
            "run": {"root": str(tmp_path / "runs"), "name": "w"},
            "executor": {"workers": 1},
            "ingest": {
                "inputs": [{"path": "crawl/*.warc.gz", "format": "warc", "license": "CC-BY-4.0"}]
            },
            "curate": {
                "languages": ["en", "de"],
                "optout": {
                    "domain_lists": ["list.txt"],
                    "robots_snapshots": ["robots.jsonl"],
                    "tdmrep_snapshots": ["tdmrep.jsonl"],
                    "infringing_lists": ["infringing.txt"],
                },
            },
        },
        base_dir=tmp_path,
    )
    manifest = run_pipeline(recipe, until="curate")
    rec = manifest.entry("curate")["record"]
    kept = list(read_folder(recipe.run_dir / "curate" / "docs"))
    assert sorted(d.source for d in kept) == [
        "https://free.example/a",
        "https://robots.example/public/a",
    ]
    assert all(d.lang == "en" and d.meta["license"] == "CC-BY-4.0" for d in kept)
    rules = {domain: next(iter(v["rules"])) for domain, v in rec["optout"].items()}
    assert rules["header.example"] == "tdmrep_header"
    assert rules["meta.example"] == "tdmrep_meta"
    assert rules["noai.example"] == "noai_meta"
    assert rules["tdmjson.example"] == "tdmrep_json"
    assert rules["listed.example"] == "domain_list:list.txt"
    robots = rec["optout"]["robots.example"]
    assert robots.pop("bytes") > 0  # size of content per domain, for the public summary
    assert robots == {
        "docs": 2,
        "opted_out_docs": 1,
        "rules": {"robots_txt:CCBot": 1, "none": 1},
    }
    # the WARC-Date of the first and last record: the crawl period in the public summary
    ingest = manifest.entry("ingest")["record"]
    assert ingest["crawl"] == {"start": "2025-03-01", "end": "2025-03-09"}
    # the crawler, as the file's warcinfo record declares it
    assert ingest["crawler"] == {
        "user_agent": CRAWLER_FIELDS["http-header-user-agent"],
        "software": CRAWLER_FIELDS["software"],
        "operator": CRAWLER_FIELDS["operator"],
        "robots_policy": "obey",
        "crawls": [CRAWLER_FIELDS["isPartOf"]],
        "files": 1,
    }
    assert ingest["sources"][0]["crawler"]["robots"] == ["obey"]
    assert ingest["undated_docs"] == 0
    assert rec["docs_in"] == 9 == rec["docs_kept"] + rec["docs_dropped"]
    assert rec["optout_docs_removed"] == 6
    # an infringing website is dropped on its own ground, not counted as a TDM opt-out
    assert rec["infringing_sites"] == {
        "lists": ["infringing.txt"],
        "domains_listed": 1,
        "docs_removed": 1,
        "domains": {"films.pirate.example": 1},
    }
    assert "films.pirate.example" not in rec["optout"]
    assert rec["dropped_by_reason"]["infringing_site"] == 1
    assert rec["steps"]["langid"]["und"]["docs_in"] == 9  # WARC pages carry no language label
