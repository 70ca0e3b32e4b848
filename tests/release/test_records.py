"""Each stage record has one schema: a field renamed by the writer or misspelt by a reader fails
here, not as "not recorded" in a published document; the manifest records the code's commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from openeurollm.config import ReleaseConfig
from openeurollm.errors import StageError
from openeurollm.pipeline.manifest import git_state
from openeurollm.records import RECORDS, load_record
from openeurollm.records.mix import MixRecord
from openeurollm.release.facts import Facts

from .test_documents import entries


def test_every_fixture_record_matches_its_schema() -> None:
    ent = entries()
    assert set(ent) <= set(RECORDS)
    for stage, entry in ent.items():
        assert (
            load_record(stage, entry["record"]).dump()
            == RECORDS[stage].model_validate(entry["record"]).dump()
        )


def test_a_field_renamed_by_the_writer_fails() -> None:
    record = entries()["mix"]["record"]
    record["train_documents"] = record.pop("train_docs")
    with pytest.raises(ValidationError, match="train_docs"):
        MixRecord(**record)
    with pytest.raises(StageError, match=r"the mix record .* \(train_docs: Field required\)"):
        load_record("mix", record)


def test_a_field_misspelt_by_a_reader_fails() -> None:
    facts = Facts(entries(), ReleaseConfig())
    assert facts.rec("train", "tokens_seen") > 0
    with pytest.raises(KeyError, match="tokens_trained"):
        facts.rec("train", "tokens_trained")


def test_git_state_records_commit_and_dirty_state(tmp_path: Path) -> None:
    assert git_state(tmp_path)["commit"] == "not recorded (not a git checkout)"

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org",
             *args], check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", "code.py")
    git("commit", "-qm", "one")
    assert git_state(tmp_path) == {"commit": git("rev-parse", "HEAD"), "dirty": False}
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_state(tmp_path)["dirty"] is True
