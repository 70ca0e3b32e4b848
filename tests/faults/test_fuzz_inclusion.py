"""Fuzzing `check-inclusion` with hypothesis: any URL or text is an answer, never a crash, and
a trained URL is found under every spelling of it that names the same page."""

from __future__ import annotations

from pathlib import Path
from random import Random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openeurollm.errors import InputError
from openeurollm.release.cli_commands import check_inclusion
from openeurollm.release.membership import MembershipIndex, text_key, url_key
from openeurollm.release.urlform import canonical_url

from .conftest import FAULTS

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
# Drawing pages of arbitrary Unicode dominates the cost: fewer pages, three spellings each.
FUZZ_PAGES = settings(FUZZ, max_examples=200)
UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
TRAINED = ["https://trained.example/a", "https://trained.example/b?q=1"]

# Any string at all, lone surrogates included (an undecodable byte of a CLI argument).
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=200)
url_like = st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["", "http://", "https://", "HTTPS://", "ftp://", "//", "https://["]),
    any_text,
)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inclusion")
    keys = [url_key(u) for u in TRAINED] + [text_key("a trained text")]
    MembershipIndex.build(keys, documents=2).save(folder)
    return folder


@FUZZ
@given(url=st.one_of(any_text, url_like))
def test_any_url_gets_an_answer(release: Path, url: str) -> None:
    FAULTS["fuzz_cases"] += 1
    form = canonical_url(url)
    assert isinstance(form, str) and canonical_url(url) == form  # deterministic
    included, message = check_inclusion(release, url, None)
    assert message.startswith("included" if included else "not included")
    assert "\x1b" not in message  # the echoed URL is safe to print


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_text_file_gets_an_answer_or_a_one_line_error(
    release: Path, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    FAULTS["fuzz_cases"] += 1
    path = tmp_path_factory.getbasetemp() / "fuzz-text.txt"
    path.write_bytes(data)
    try:
        included, message = check_inclusion(release, None, path)
    except InputError as exc:  # not UTF-8
        assert "\n" not in str(exc)
        return
    assert isinstance(included, bool) and message


# --- one page, many spellings -------------------------------------------------------------

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
host = st.lists(label, min_size=1, max_size=3).map(lambda ls: ".".join([*ls, "example"]))
segment = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12
)
page = st.fixed_dictionaries(
    {
        "host": host,
        "port": st.sampled_from([None, None, 8080, 8443]),
        "path": st.lists(segment, max_size=4),
        "query": st.one_of(st.none(), st.lists(st.tuples(segment, segment), max_size=3)),
        "fragment": segment,
    }
)


def _escape(ch: str, rnd: Random) -> str:
    """One character of a path or query as a browser might write it."""
    if ch in UNRESERVED:
        if rnd.random() < 0.7:
            return ch
    elif not ch.isascii() and ch.isprintable() and rnd.random() < 0.5:
        return ch  # an IRI: the raw character means its UTF-8 escapes
    hexes = "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
    return hexes.lower() if rnd.random() < 0.5 else hexes


def spell(p: dict, rnd: Random) -> str:
    """One spelling of page `p`: scheme and host case, default port, user, escapes,
    trailing slash, fragment and whitespace all chosen at random."""
    coin = lambda: rnd.random() < 0.5  # noqa: E731
    scheme = rnd.choice(["http", "https", "HTTP", "Https"])
    name = "".join(c.upper() if coin() else c for c in p["host"]) + ("." if coin() else "")
    port = f":{p['port']}" if p["port"] else rnd.choice(["", "", ":80", ":443", ":0443"])
    user = "someone:secret@" if coin() else ""
    path = "".join("/" + "".join(_escape(c, rnd) for c in seg) for seg in p["path"])
    path += "/" * rnd.randint(0, 2)
    query = ""
    if p["query"] is not None:
        pairs = ("".join(_escape(c, rnd) for c in k) + "=" + "".join(_escape(c, rnd) for c in v)
                 for k, v in p["query"])  # fmt: skip
        query = "?" + "&".join(pairs)
    fragment = "#" + p["fragment"] if coin() else ""
    pad = rnd.choice(["", " ", "\n", "\t "])
    return f"{pad}{scheme}://{user}{name}{port}{path}{query}{fragment}{pad}"


@FUZZ_PAGES
@given(p=page, rnd=st.randoms(use_true_random=False))
def test_a_trained_url_is_found_in_every_spelling(p: dict, rnd: Random) -> None:
    FAULTS["fuzz_cases"] += 1
    trained = spell(p, rnd)
    index = MembershipIndex.build([url_key(trained), *map(url_key, TRAINED)], documents=3)
    for _ in range(3):
        asked = spell(p, rnd)
        assert canonical_url(asked) == canonical_url(trained), (trained, asked)
        assert index.contains_url(asked), (trained, asked)
