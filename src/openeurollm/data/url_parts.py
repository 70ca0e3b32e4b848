"""Total URL parsing for input URLs: a URL no parser accepts gives None, never an exception.

`urllib.parse.urlsplit` raises ValueError on input such as `https://[bad-ipv6/page` or a
host that changes under NFKC normalization; input URLs come from untrusted files, so every
place that takes a URL apart goes through here.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


def split_url(url: str) -> SplitResult | None:
    """The parts of `url`, or None when it cannot be parsed (or its port is not a number)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        return None
    return parts


def url_host(url: str) -> str | None:
    """The lower-cased host of `url` ("" when it has none), or None when it cannot be parsed."""
    parts = split_url(url)
    return None if parts is None else parts.hostname or ""
