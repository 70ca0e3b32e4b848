"""One canonical spelling of a URL, used when the membership index is built AND looked up.

A page is one page whatever way its URL is written, so `check-inclusion` must not answer
"not included" for `HTTPS://Example.org:443/a/#top` when `https://example.org/a` was trained.
Canonical form, for http and https URLs:

- the scheme is dropped (http and https name the same page for this purpose);
- user name and password are dropped; the host is lower-cased, a trailing dot removed,
  a non-ASCII host converted to its IDNA (punycode) form;
- the default ports :80 and :443 are dropped (either scheme);
- the fragment (`#...`) is dropped, as are trailing `/` of the path and an empty `?`;
- percent-encoding: escapes of unreserved characters (letters, digits, `-._~`) are
  decoded, other escapes upper-cased, non-ASCII and non-printable characters encoded.

Anything else (another scheme, a file path, text that does not parse as a URL) is only
stripped of surrounding whitespace. The function never raises: any string is a valid query.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

_HEX = "0123456789ABCDEFabcdef"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = ("80", "443")


def _escape_byte(byte: int) -> str:
    return f"%{byte:02X}"


def _utf8(ch: str) -> bytes:
    """UTF-8 of one character; a surrogate from an undecodable argument byte is that byte."""
    try:
        return ch.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return ch.encode("utf-8", "surrogatepass")


def _normalize_escapes(part: str) -> str:
    """Percent-encoding in one canonical form (RFC 3986 6.2.2.1-2), idempotent."""
    out: list[str] = []
    i = 0
    while i < len(part):
        ch = part[i]
        if ch == "%" and i + 2 < len(part) and part[i + 1] in _HEX and part[i + 2] in _HEX:
            byte = int(part[i + 1 : i + 3], 16)
            out.append(chr(byte) if chr(byte) in _UNRESERVED else _escape_byte(byte))
            i += 3
            continue
        if ch == "%" or not ch.isascii() or not ch.isprintable():
            # a lone '%' is a literal percent sign; surrogates (from undecodable bytes) too
            out.extend(_escape_byte(b) for b in _utf8(ch))
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid IDNA name: keep the lower-cased form
        return host


def _port(parts: SplitResult) -> str:
    """The explicit port as written, '' for none or a default one (':abc' is kept as text)."""
    netloc = parts.netloc.rpartition("@")[2]
    host_end = netloc.rfind("]") if netloc.startswith("[") else -1
    _, sep, port = netloc[host_end + 1 :].rpartition(":")
    if port.isascii() and port.isdigit():
        port = str(int(port))  # ':0443' is ':443'
    if not sep or port in ("", *_DEFAULT_PORTS):
        return ""
    return ":" + port


def canonical_url(url: str) -> str:
    """The canonical spelling of `url` (see the module docstring); never raises."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. 'https://[bad-ipv6/page': compare as written
        return text
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return text
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal: keep its brackets
        host = f"[{host}]"
    path = _normalize_escapes(parts.path).rstrip("/")
    query = _normalize_escapes(parts.query)
    return f"//{_host(host)}{_port(parts)}{path}" + (f"?{query}" if query else "")
