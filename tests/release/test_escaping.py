"""Values from input data are shown as text in every generated document, never as markup.

The attack: a crawled hostname `evil|**x**<img src=x onerror=alert(1)>.example` (and any
other string that came from the input: source names, licences, drop reasons, crawler
names) reached the public training-content summary raw, splitting its table and carrying
HTML. Every string in the records is poisoned here and every document is searched for it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from openeurollm.config import ReleaseConfig
from openeurollm.escape import markdown_text, terminal_safe
from openeurollm.release.facts import Facts

from .test_documents import RENDERERS, entries

PAYLOAD = "evil|**x**<img src=x onerror=alert(1)>[y](http://e.example)_z_`c`\n# h"
# Keys that are data (domains, reasons, kinds), not the record's own field names.
DATA_KEYED = {"optout", "dropped_by_reason", "domains", "pii_total", "relabelled", "rules"}
LEAKS = {
    "raw HTML": re.compile(r"<img"),
    "emphasis": re.compile(r"(?<!\\)\*\*x"),
    "table cell break": re.compile(r"evil(?!\\)\|"),
    "link": re.compile(r"(?<!\\)\[y(?!\\)\]\("),
    "code span": re.compile(r"(?<!\\)`c"),
    "heading in a value": re.compile(r"^# h", re.MULTILINE),
}


def poison(node: Any, key: str = "") -> Any:
    """Every string leaf, and the keys of data-keyed maps, with the payload appended."""
    if isinstance(node, dict):
        rename = key in DATA_KEYED
        return {(k + PAYLOAD if rename else k): poison(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [poison(v, key) for v in node]
    if isinstance(node, str):
        return node + PAYLOAD
    return node


def poisoned_entries() -> dict[str, Any]:
    ent = entries()
    for entry in ent.values():
        entry["record"] = poison(entry["record"])
        if isinstance(entry.get("config"), dict):
            entry["config"] = poison(entry["config"])
    curate = ent["curate"]["record"]
    curate["infringing_sites"] = poison(
        {"lists": ["list.txt"], "domains_listed": 3, "docs_removed": 2, "domains": {"d": 2}}
    )
    crawler = {"user_agent": "Bot", "software": "S", "operator": "O", "robots_policy": "obey"}
    ent["ingest"]["record"]["crawler"] = poison({**crawler, "crawls": ["C"], "files": 1})
    return ent


def body(name: str, text: str) -> str:
    """The Markdown a reader sees: the model card's YAML front matter is data, not Markdown."""
    if name == "README.md" and text.startswith("---\n"):
        return text.split("\n---\n", 1)[1]
    return text


@pytest.mark.parametrize("name", [n for n in RENDERERS if n.endswith(".md")])
def test_poisoned_records_render_as_text(name: str) -> None:
    facts = Facts(poisoned_entries(), ReleaseConfig(), {}, today="2026-11-25")
    text = body(name, RENDERERS[name](facts))
    assert "evil" in text, "the poisoned values must be shown (escaped), not dropped"
    found = {kind: rx.findall(text)[:3] for kind, rx in LEAKS.items() if rx.search(text)}
    assert found == {}, f"{name}: {found}"


def test_domain_table_row_of_a_hostile_hostname() -> None:
    """The reported attack, end to end in the public summary's domain table."""
    ent = entries()
    host = "evil|**x**<img src=x onerror=alert(1)>.example"
    ent["curate"]["record"]["optout"] = {
        host: {"docs": 5, "bytes": 999_999, "opted_out_docs": 0, "rules": {"none": 5}}
    }
    summary = RENDERERS["training_content_summary.md"](
        Facts(ent, ReleaseConfig(), {}, today="2026-11-25")
    )
    row = r"| evil\|\*\*x\*\*&lt;img src=x onerror=alert(1)&gt;.example | 5 | 999,999 |"
    assert row in summary


def test_markdown_text_keeps_ordinary_values_readable() -> None:
    for plain in ("dedup_exact", "news.example.org", "CC-BY-4.0", "1,234", "über-straße"):
        assert markdown_text(plain) == plain
    assert markdown_text("a_") == "a\\_" and markdown_text("R&D") == "R&amp;D"
    assert markdown_text("line\nbreak\x1b[2J") == "line break\\[2J"


def test_terminal_safe_shows_control_sequences_as_text() -> None:
    hostile = "ok\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\r\x9b31m\u202eevil\tand\nnext"
    shown = terminal_safe(hostile)
    assert not any(ch in shown for ch in "\x1b\x07\r\x9b\u202e")
    assert "\\x1b]52;c;" in shown and "\tand\nnext" in shown


def test_inspect_does_not_print_escape_sequences(tmp_path: Path, capsys) -> None:
    """Attack: a dropped document holding a clipboard write (OSC 52) and a screen clear."""
    import json

    from openeurollm.cli import main

    run = tmp_path / "run"
    (run / "curate" / "dropped").mkdir(parents=True)
    (run / "manifest.json").write_text("{}")
    sample = {"id": "d\x1b[31m", "lang": "en", "source": "https://e.example/\x1b]0;title\x07",
              "text": "hello \x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J\x1b[H world"}  # fmt: skip
    (run / "curate" / "dropped" / "filters.jsonl").write_text(json.dumps(sample) + "\n")
    assert main(["inspect", str(run), "--reason", "filters"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "hello \\x1b]52;c;cm0gLXJmIH4=\\x07" in out
