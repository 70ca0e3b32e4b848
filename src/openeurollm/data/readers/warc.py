"""WARC reader (.warc, .warc.gz, .warc.zst): HTTP responses with HTML -> main text.

FastWARC streams records; Resiliparse detects the charset and extracts the main content
(boilerplate such as menus and footers removed). URL, domain, crawl date and license go
into the document metadata, and so do the opt-out signals a page carries itself: the
TDMRep `tdm-reservation` header or meta tag, and `noai` in robots meta / X-Robots-Tag.
A warcinfo record (who crawled, with which user agent, obeying robots.txt how) becomes a
SourceInfo for the ingest record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from openeurollm.data.document import Document
from openeurollm.data.readers import READERS, Quarantined, SourceInfo

if TYPE_CHECKING:
    from openeurollm.config import InputSpec

MAX_RECORD_BYTES = 10 * 1024 * 1024  # larger payloads are skipped by the parser, and counted
MAX_WARCINFO_BYTES = 64 * 1024
# warcinfo fields that describe the crawler (WARC 1.1, annex on warcinfo; Common Crawl's set).
WARCINFO_FIELDS = ("software", "operator", "robots", "http-header-user-agent", "isPartOf")
_META = re.compile(rb"<meta\s[^>]*>", re.IGNORECASE)
_ATTR = re.compile(rb"""([a-zA-Z-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")


def _warc_fields(body: bytes) -> dict[str, str]:
    """The crawler fields of a warcinfo record's `application/warc-fields` body."""
    fields: dict[str, str] = {}
    for line in body.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in WARCINFO_FIELDS and value.strip():
            fields[key.strip()] = value.strip()[:500]
    return fields


def _meta_tags(html: bytes) -> dict[str, str]:
    """name -> content of <meta> tags in the document head (lower-cased names)."""
    out: dict[str, str] = {}
    head = html[: html.lower().find(b"</head>") if b"</head>" in html[:200_000].lower() else 65536]
    for tag in _META.findall(head):
        attrs = {k.lower(): v.strip(b"\"'") for k, v in _ATTR.findall(tag)}
        name = attrs.get(b"name") or attrs.get(b"property")
        if name and b"content" in attrs:
            out[name.decode("ascii", "replace").lower()] = attrs[b"content"].decode(
                "utf-8", "replace"
            )
    return out


def _optout_signals(http_headers: object, metas: dict[str, str]) -> dict[str, object]:
    signals: dict[str, object] = {}
    get = getattr(http_headers, "get", None)
    header_tdm = get("tdm-reservation") if get else None
    if header_tdm is not None:
        signals["tdm_reservation"] = str(header_tdm).strip()
        signals["tdm_source"] = "header"
    elif "tdm-reservation" in metas:
        signals["tdm_reservation"] = metas["tdm-reservation"].strip()
        signals["tdm_source"] = "meta"
    if "tdm-policy" in metas:
        signals["tdm_policy"] = metas["tdm-policy"]
    robots = [metas.get("robots", ""), str(get("x-robots-tag") or "") if get else ""]
    directives = {d.strip().lower() for r in robots for d in r.split(",") if d.strip()}
    if directives:
        signals["robots"] = sorted(directives)
    return signals


@READERS.register("warc")
def read_warc(path: Path, spec: InputSpec) -> Iterator[Document | Quarantined | SourceInfo]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    n = 0
    try:
        with open(path, "rb") as fh:
            records = ArchiveIterator(
                fh,
                record_types=WarcRecordType.response | WarcRecordType.warcinfo,
                parse_http=True,
                max_content_length=MAX_RECORD_BYTES,
                fsspec_args=False,
            )
            for record in records:
                n += 1
                if record.record_type == WarcRecordType.warcinfo:
                    yield SourceInfo(_warc_fields(record.reader.read(MAX_WARCINFO_BYTES)))
                    continue
                url = record.headers.get("WARC-Target-URI", "") or ""
                where = f"{path}:record{n}"
                ctype = (record.http_content_type or "").lower()
                if ctype and "html" not in ctype:
                    yield Quarantined(where, f"not HTML: {ctype}", url)
                    continue
                body = record.reader.read()
                if not body:
                    yield Quarantined(where, "empty HTTP body", url)
                    continue
                try:
                    html = bytes_to_str(body, record.http_charset or detect_encoding(body))
                except LookupError:  # a charset name no codec knows: sniff the bytes instead
                    html = bytes_to_str(body, detect_encoding(body))
                text = extract_plain_text(html, main_content=True, alt_texts=False)
                if not text.strip():
                    yield Quarantined(where, "no main text in HTML", url)
                    continue
                meta: dict[str, object] = {
                    "domain": urlsplit(url).hostname or "",
                    "crawl_date": record.headers.get("WARC-Date", ""),
                    "warc_record_id": record.headers.get("WARC-Record-ID", ""),
                    **_optout_signals(record.http_headers, _meta_tags(body)),
                }
                if spec.license:
                    meta["license"] = spec.license
                if spec.name:
                    meta["dataset"] = spec.name
                yield Document.new(text, lang="", source=url or where, **meta)
    except (OSError, ValueError) as exc:
        yield Quarantined(
            f"{path}:record{n + 1}", f"unreadable from here on: {type(exc).__name__}: {exc}"
        )
