"""Untrusted strings made inert where they are shown: in generated Markdown, on a terminal.

Hostnames, URLs, source names, licences, drop reasons: anything that came from input data
(or a recipe) may hold Markdown, HTML or terminal control sequences. A published document
must show such a value as text, never as a table column break, a link, emphasis or an
`<img onerror=...>`; a terminal must never receive a clipboard write or a screen clear from
a crawled page. HTML pages escape with `html.escape` in their one helper (report/html.py).
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Characters that start Markdown syntax anywhere in a line (CommonMark + GFM tables and
# strikethrough); a backslash makes each a literal. `_` is handled apart (see below).
_MD_ALWAYS = frozenset("\\`*[]|#~")
_MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_LINE_BREAKS = frozenset("\r\n\v\f\x85\u2028\u2029")
# Bidirectional overrides and isolates reorder what a reader sees ("Trojan Source").
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(ch: str) -> bool:
    """C0 and C1 control characters, DEL, the bidi controls, and lone surrogates (an
    undecodable byte of a file name or argument: printing one would raise)."""
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI


class Markdown(str):
    """Text already escaped for Markdown: escaping it again would show the backslashes."""


def markdown_text(value: Any) -> Markdown:
    """`value` as literal Markdown text on one line: syntax escaped, HTML as entities.

    An underscore between two letters or digits cannot start emphasis (GFM), so
    `dedup_exact` stays readable in the Markdown source; any other underscore is escaped.
    """
    if isinstance(value, Markdown):
        return value
    text = str(value)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _LINE_BREAKS:
            out.append(" ")  # a line break in a value would end a table row or start a heading
        elif ch in _MD_ENTITIES:
            out.append(_MD_ENTITIES[ch])
        elif ch in _MD_ALWAYS:
            out.append("\\" + ch)
        elif ch == "_":
            intraword = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
            out.append("_" if intraword else "\\_")
        elif _is_control(ch):
            continue  # invisible in a document, and never meant as text
        else:
            out.append(ch)
    return Markdown("".join(out))


def terminal_safe(text: str) -> str:
    """`text` with every control character but newline and tab shown as a visible escape.

    ESC (`\\x1b`) starts the sequences that clear the screen, set the title or write the
    clipboard (OSC 52); `\\r` overwrites what was printed; C1 `\\x9b` is a one-byte CSI.
    """
    out: list[str] = []
    for ch in text:
        if ch in "\n\t" or not _is_control(ch):
            out.append(ch)
        else:
            out.append(ascii(ch)[1:-1])  # e.g. \x1b, \x9b, \u202e
    return "".join(out)
