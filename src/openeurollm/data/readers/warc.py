"""WARC reader (.warc, .warc.gz, .warc.zst): HTTP responses with HTML -> main text.

Records come from our own framing (`warc_records`): a cut, damaged or lying record is
quarantined on its own and the rest of the file is still read. Resiliparse parses the HTML
once (a real tokenizer: linear in the page, whatever its tags hold), extracts the main
content (boilerplate such as menus and footers removed) and gives the <meta> tags. URL,
domain, crawl date and license go into the document metadata, and so do the opt-out
signals a page carries itself: the TDMRep `tdm-reservation` header or meta tag, and `noai`
in robots meta / X-Robots-Tag. A warcinfo record (who crawled, with which user agent,
obeying robots.txt how) becomes a SourceInfo for the ingest record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from resiliparse.parse.html import HTMLTree

from openeurollm.data.document import Document
from openeurollm.data.readers import READERS, Quarantined, SourceInfo
from openeurollm.data.readers.streams import decoded_pieces
from openeurollm.data.readers.warc_records import WarcRecord, warc_records
from openeurollm.data.url_parts import url_host

if TYPE_CHECKING:
    from openeurollm.config import InputSpec

MAX_RECORD_BYTES = 10 * 1024 * 1024  # larger records are skipped unread, and quarantined
MAX_WARCINFO_BYTES = 64 * 1024
MAX_HTTP_HEADER_BYTES = 64 * 1024
# warcinfo fields that describe the crawler (WARC 1.1, annex on warcinfo; Common Crawl's set).
WARCINFO_FIELDS = ("software", "operator", "robots", "http-header-user-agent", "isPartOf")


def _warc_fields(body: bytes) -> dict[str, str]:
    """The crawler fields of a warcinfo record's `application/warc-fields` body."""
    fields: dict[str, str] = {}
    for line in body.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in WARCINFO_FIELDS and value.strip():
            fields[key.strip()] = value.strip()[:500]
    return fields


def _meta_tags(tree: HTMLTree) -> dict[str, str]:
    """name (or property) -> content of the page's <meta> tags, names lower-cased."""
    out: dict[str, str] = {}
    for tag in tree.document.query_selector_all("meta") if tree.document else ():
        name = tag.getattr("name") or tag.getattr("property")
        content = tag.getattr("content")
        if name and content is not None:
            out.setdefault(name.lower(), content)
    return out


def _http_response(block: bytes) -> tuple[dict[str, str], bytes] | None:
    """(header fields with lower-cased names, body) of an HTTP response; None if the block
    does not start with one. Repeated fields are joined with ", " as HTTP allows."""
    end = block.find(b"\r\n\r\n", 0, MAX_HTTP_HEADER_BYTES)
    if not block.startswith(b"HTTP/") or end < 0:
        return None
    headers: dict[str, str] = {}
    for line in block[:end].decode("latin-1").split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if sep:
            name = key.strip().lower()
            headers[name] = (
                f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
            )
    return headers, block[end + 4 :]


def _optout_signals(http_headers: dict[str, str], metas: dict[str, str]) -> dict[str, object]:
    signals: dict[str, object] = {}
    header_tdm = http_headers.get("tdm-reservation")
    if header_tdm is not None:
        signals["tdm_reservation"] = str(header_tdm).strip()
        signals["tdm_source"] = "header"
    elif "tdm-reservation" in metas:
        signals["tdm_reservation"] = metas["tdm-reservation"].strip()
        signals["tdm_source"] = "meta"
    if "tdm-policy" in metas:
        signals["tdm_policy"] = metas["tdm-policy"]
    robots = [metas.get("robots", ""), http_headers.get("x-robots-tag", "")]
    directives = {d.strip().lower() for r in robots for d in r.split(",") if d.strip()}
    if directives:
        signals["robots"] = sorted(directives)
    return signals


@READERS.register("warc")
def read_warc(path: Path, spec: InputSpec) -> Iterator[Document | Quarantined | SourceInfo]:
    # A member is checked before its bytes are framed, when it is a record's size or less.
    pieces = decoded_pieces(path, resync=True, hold=MAX_RECORD_BYTES + MAX_WARCINFO_BYTES)
    records = warc_records(path, pieces, {"response", "warcinfo"}, MAX_RECORD_BYTES)
    for record in records:
        if isinstance(record, Quarantined):
            yield record
        elif record.type == "warcinfo" and record.block is not None:
            yield SourceInfo(_warc_fields(record.block[:MAX_WARCINFO_BYTES]))
        elif record.type == "response":
            yield _response(path, record, spec)


def _response(path: Path, record: WarcRecord, spec: InputSpec) -> Document | Quarantined:
    """One response record -> a Document of its main text, or why not."""
    from resiliparse.extract.html2text import extract_plain_text

    url = record.headers.get("warc-target-uri", "")
    where = f"{path}:record{record.number}"
    host = url_host(url)
    if host is None:
        return Quarantined(where, "unparseable URL", url[:200])
    if record.block is None:
        return Quarantined(where, f"record larger than {MAX_RECORD_BYTES} bytes", url)
    response = _http_response(record.block)
    if response is None:
        return Quarantined(where, "no HTTP response header", url)
    http_headers, body = response
    media_type, charset = _content_type(http_headers.get("content-type", ""))
    if media_type and "html" not in media_type:
        return Quarantined(where, f"not HTML: {media_type}", url)
    if not body:
        return Quarantined(where, "empty HTTP body", url)
    tree = HTMLTree.parse(_decode(body, charset))
    text = extract_plain_text(tree, main_content=True, alt_texts=False)
    if not text.strip():
        return Quarantined(where, "no main text in HTML", url)
    meta: dict[str, object] = {
        "domain": host,
        "crawl_date": record.headers.get("warc-date", ""),
        "warc_record_id": record.headers.get("warc-record-id", ""),
        **_optout_signals(http_headers, _meta_tags(tree)),
    }
    if spec.license:
        meta["license"] = spec.license
    if spec.name:
        meta["dataset"] = spec.name
    return Document.new(text, lang="", source=url or where, **meta)


def _content_type(value: str) -> tuple[str, str | None]:
    """(media type, charset or None) of a Content-Type header value."""
    media_type, *params = value.split(";")
    charset = None
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip(" \"'"):
            charset = val.strip(" \"'")
    return media_type.strip().lower(), charset


def _decode(body: bytes, charset: str | None) -> str:
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    try:
        return bytes_to_str(body, charset or detect_encoding(body))
    except LookupError:  # a charset name no codec knows: sniff the bytes instead
        return bytes_to_str(body, detect_encoding(body))
