"""Shipping the data a release may carry: licences decide, private metadata never leaves."""

from __future__ import annotations

from pathlib import Path

from openeurollm.data.docstore import read_documents, write_documents
from openeurollm.data.document import Document
from openeurollm.release.open_science import PRIVATE_META, ship_dataset


def test_shipped_documents_lose_the_pre_masking_hash_and_keep_the_rest(tmp_path: Path) -> None:
    run = tmp_path / "run"
    docs = [
        Document.new("Call [PHONE] today.", "en", license="CC-BY-4.0", unmasked_hash="ab" * 16),
        Document.new("Nothing to mask here.", "en", license="CC0-1.0", domain="example.org"),
    ]
    (run / "curate" / "docs").mkdir(parents=True)
    write_documents(run / "curate" / "docs" / "00000.parquet", docs)
    shipped = ship_dataset(tmp_path / "release", run)
    assert shipped["files"] == ["00000.parquet"]
    out = list(read_documents(tmp_path / "release" / "data" / "curated" / "00000.parquet"))
    assert [d.text for d in out] == [d.text for d in docs]
    assert all(PRIVATE_META.isdisjoint(d.meta) for d in out)
    assert out[0].meta == {"license": "CC-BY-4.0"}
    assert out[1].meta == {"license": "CC0-1.0", "domain": "example.org"}


def test_data_whose_licence_forbids_redistribution_is_not_shipped(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "curate" / "docs").mkdir(parents=True)
    write_documents(
        run / "curate" / "docs" / "00000.parquet",
        [Document.new("All rights reserved text.", "en", license="proprietary")],
    )
    shipped = ship_dataset(tmp_path / "release", run)
    assert "proprietary" in shipped["missing"]
    assert not (tmp_path / "release" / "data").exists()
