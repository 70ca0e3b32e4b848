"""One typed schema per stage record, imported by the stage that writes it and by every
reader (release documents, report). A field renamed on one side fails validation."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from openeurollm.errors import StageError
from openeurollm.records.base import Record
from openeurollm.records.curate import CurateRecord
from openeurollm.records.eval import EvalRecord
from openeurollm.records.ingest import IngestRecord
from openeurollm.records.mix import MixRecord
from openeurollm.records.release import ReleaseRecord, ReportRecord
from openeurollm.records.shards import ShardsRecord
from openeurollm.records.tokenizer import TokenizerRecord
from openeurollm.records.train import TrainRecord

RECORDS: dict[str, type[Record]] = {
    "ingest": IngestRecord,
    "curate": CurateRecord,
    "mix": MixRecord,
    "tokenizer": TokenizerRecord,
    "shards": ShardsRecord,
    "train": TrainRecord,
    "eval": EvalRecord,
    "release": ReleaseRecord,
    "report": ReportRecord,
}

__all__ = ["RECORDS", "Record", "load_record", "record_fields"]


def load_record(stage: str, data: Any) -> Record:
    """A stage's record read back from the manifest; a one-line error when it does not match
    the schema (a manifest written by another version: rerun the stage)."""
    try:
        return RECORDS[stage].model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(record)"
        raise StageError(
            f"the {stage} record in manifest.json does not match its schema ({where}: "
            f"{first['msg']}); rerun with --force {stage}"
        ) from None


def record_fields(stage: str) -> set[str]:
    return set(RECORDS[stage].model_fields)
