"""Membership index: no false negatives, <= 1.5% false positives, <= 2 bytes per document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openeurollm.data.document import normalized_hash
from openeurollm.data.pii import PiiMasker
from openeurollm.errors import InputError
from openeurollm.release.build import membership_from_lineage
from openeurollm.release.cli_commands import check_inclusion
from openeurollm.release.membership import MembershipIndex, url_key
from openeurollm.release.urlform import canonical_url
from openeurollm.shards.lineage import LineageWriter

from ..conftest import SmallRun

N_DOCS = 3000


def _doc(i: int) -> tuple[str, str]:
    return (
        f"https://site{i % 97}.example/page/{i}",
        f"Document number {i}: some text about topic {i * 7}.",
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("release")
    lineage = folder / "lineage.parquet"
    with LineageWriter(lineage) as writer:
        for i in range(N_DOCS):
            url, text = _doc(i)
            for repeat in range(1 + i % 3):  # the mix repeats documents: one key each still
                writer.add(lang="en", shard="en/00000.bin", start=repeat, end=repeat + 1,
                           doc_id=f"d{i}", url=url, hash=normalized_hash(text))  # fmt: skip
    info = membership_from_lineage(lineage, folder)
    assert info["documents"] == N_DOCS and info["keys"] == 2 * N_DOCS
    lineage.unlink()
    return folder


def test_every_trained_document_is_included(release: Path, tmp_path: Path) -> None:
    index = MembershipIndex.load(release)
    for i in range(N_DOCS):
        url, text = _doc(i)
        assert index.contains_url(url)
        # the text is matched after normalization: case, punctuation and spacing do not matter
        assert index.contains_text("  " + text.upper().replace(":", " ;") + "\n")
    url, text = _doc(17)
    f = tmp_path / "doc.txt"
    f.write_text(text, encoding="utf-8")
    ok, message = check_inclusion(release, None, f)
    assert ok and message.startswith("included") and "false-positive rate 0.78%" in message
    assert check_inclusion(release, url, None)[0]


def test_false_positives_and_size(release: Path) -> None:
    index = MembershipIndex.load(release)
    n = 10_000
    hits_url = sum(index.contains_url(f"https://other.example/{i}") for i in range(n))
    hits_text = sum(index.contains_text(f"An unseen document {i} of the test.") for i in range(n))
    assert hits_url / n <= 0.015 and hits_text / n <= 0.015
    size = (release / "membership.filter").stat().st_size
    assert size / N_DOCS <= 2.0
    ok, message = check_inclusion(release, "https://never.example/x", None)
    assert not ok and message.startswith("not included")


def test_bad_requests(release: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="exactly one"):
        check_inclusion(release, None, None)
    with pytest.raises(InputError, match="no membership index"):
        check_inclusion(tmp_path, "https://a.example", None)


# --- hostile and unlucky lookups (issue 18, items 2 and 16) --------------------------------

TRAINED_URL = "https://news.example.org/2026/story?id=7"
SPELLINGS = [
    "https://news.example.org/2026/story?id=7",
    "https://news.example.org/2026/story/?id=7",  # trailing slash
    "https://NEWS.Example.ORG/2026/story?id=7",  # upper-case host
    "HTTP://news.example.org/2026/story?id=7",  # http, upper-case scheme
    "https://news.example.org:443/2026/story?id=7",  # explicit default port
    "http://news.example.org:80/2026/story?id=7",
    "https://news.example.org/2026/story?id=7#comments",  # fragment
    "https://news.example.org/%32026/st%6Fry?id=7",  # escaped unreserved characters
    "  https://news.example.org./2026/story?id=7\n",  # whitespace, trailing dot of the host
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_trained_url_is_found_in_any_spelling(tmp_path: Path, spelling: str) -> None:
    """Attack: the page was trained on, asked for with its URL written another way."""
    MembershipIndex.build([url_key(TRAINED_URL), url_key("https://a.example/%c3%a9")], 2).save(
        tmp_path
    )
    ok, message = check_inclusion(tmp_path, spelling, None)
    assert ok, message
    # percent-encoding case: %c3%a9, %C3%A9 and the raw character are one path
    for variant in ("https://a.example/%C3%A9", "https://A.example/\u00e9/"):
        assert check_inclusion(tmp_path, variant, None)[0], variant


def test_other_pages_stay_distinct() -> None:
    """Normalizing must not merge different pages: path, query, host and port still count."""
    base = canonical_url(TRAINED_URL)
    for other in (
        "https://news.example.org/2026/story?id=8",
        "https://news.example.org/2026/Story?id=7",
        "https://www.news.example.org/2026/story?id=7",
        "https://news.example.org:8443/2026/story?id=7",
        "https://news.example.org/2026/story%3Fid=7",
    ):
        assert canonical_url(other) != base, other


def test_original_text_of_a_pii_masked_document_is_found(tmp_path: Path) -> None:
    """Attack: ask with the text as published, before curate masked the e-mail in it."""
    original = "Write to jana.novak@example.cz about the choir rehearsal on Friday."
    masked, counts = PiiMasker(["email"]).mask(original)
    assert counts and masked != original
    lineage = tmp_path / "lineage.parquet"
    with LineageWriter(lineage) as writer:
        writer.add(lang="cs", shard="cs/00000.bin", start=0, end=9, doc_id="d0",
                   url="https://choir.example/news", hash=normalized_hash(masked),
                   unmasked_hash=normalized_hash(original))  # fmt: skip
    info = membership_from_lineage(lineage, tmp_path)
    assert info["documents_pii_masked"] == 1 and info["keys"] == 3
    index = MembershipIndex.load(tmp_path)
    assert index.contains_text(original) and index.contains_text(masked)
    not_found = check_inclusion(tmp_path, "https://other.example/", None)[1]
    assert "before PII masking" in not_found and "not covered" in not_found


def test_legacy_index_keeps_its_url_keys(tmp_path: Path) -> None:
    """An index published before canonical URLs still answers for URLs as written."""
    url = "https://Old.example/Page/"
    MembershipIndex.build(["url:" + url], 1).save(tmp_path)
    meta = json.loads((tmp_path / "membership.json").read_text())
    meta["format"] = "openeurollm-ribbon-1"
    (tmp_path / "membership.json").write_text(json.dumps(meta))
    ok, _ = check_inclusion(tmp_path, url, None)
    assert ok
    ok, message = check_inclusion(tmp_path, "https://old.example/Page", None)
    assert not ok and "older format" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"slots": 63}, "slots"),  # would divide by zero (slots - 64 + 1)
        ({"slots": 0}, "slots"),
        ({"slots": "128"}, "slots"),
        ({"slots": 10**30}, "slots"),
        ({"fingerprint_bits": -1}, "fingerprint_bits"),
        ({"fingerprint_bits": True}, "fingerprint_bits"),
        ({"seed": 2**200}, "seed"),
        ({"format": "other"}, "format"),
        ({"documents": None}, "documents"),
        ({"slots": 1024}, "bytes, expected"),  # consistent fields, filter of another size
    ],
)
def test_crafted_membership_json_is_a_one_line_error(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    MembershipIndex.build(["url:https://a.example"], 1).save(tmp_path)
    meta = json.loads((tmp_path / "membership.json").read_text())
    meta.update(change)
    (tmp_path / "membership.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=expected) as err:
        check_inclusion(tmp_path, "https://a.example", None)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe\x00binary", b"[1, 2]", b"9" * 5000, b"[" * 100_000, b"1e999"],
)
def test_unreadable_membership_json_is_a_one_line_error(tmp_path: Path, content: bytes) -> None:
    MembershipIndex.build(["url:https://a.example"], 1).save(tmp_path)
    (tmp_path / "membership.json").write_bytes(content)
    with pytest.raises(InputError, match=r"membership\.json") as err:
        check_inclusion(tmp_path, "https://a.example", None)
    assert "\n" not in str(err.value)


def test_cli_answers_for_an_undecodable_url_argument(
    release: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A URL argument with a byte that is not UTF-8 (surrogate-escaped by Python): the CLI
    refuses every such argument up front with one line, before the index is read."""
    from openeurollm.cli import main

    assert main(["check-inclusion", str(release), "--url", "https://a.example/\udcff"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "UTF-8" in err[0]


def test_small_run_indexes_the_pre_masking_text(small_run: SmallRun) -> None:
    """Through the real stages: curate masks PII, the hash of the text it had before travels
    through mix and shards to the lineage, and the release finds that original text."""
    import pyarrow.parquet as pq

    from openeurollm.data.docstore import read_folder

    lineage = pq.read_table(small_run.run_dir / "shards" / "lineage.parquet").to_pylist()
    masked = {row["doc_id"]: row["unmasked_hash"] for row in lineage if row["unmasked_hash"]}
    assert masked, "the small run should train on at least one PII-masked document"
    originals = {doc.id: doc.text for doc in read_folder(small_run.run_dir / "ingest" / "docs")}
    index = MembershipIndex.load(small_run.run_dir / "release")
    for doc_id, unmasked in masked.items():
        assert normalized_hash(originals[doc_id]) == unmasked
        assert index.contains_text(originals[doc_id])
    # Next to the masked text, the exact hash of the original would confirm guesses of the
    # masked values: it stays in the run directory, never in a published file.
    for path in (small_run.run_dir / "release").rglob("*.parquet"):
        meta = pq.read_table(path).to_pydict().get("meta", [])
        assert not any("unmasked_hash" in (m or "") for m in meta), path
