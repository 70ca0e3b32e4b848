"""Membership index: no false negatives, <= 1.5% false positives, <= 2 bytes per document."""

from __future__ import annotations

from pathlib import Path

import pytest

from openeurollm.data.document import normalized_hash
from openeurollm.errors import InputError
from openeurollm.release.build import membership_from_lineage
from openeurollm.release.cli_commands import check_inclusion
from openeurollm.release.membership import MembershipIndex
from openeurollm.shards.lineage import LineageWriter

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
