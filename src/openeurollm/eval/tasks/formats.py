"""Readers of multiple-choice data: each turns a data path into items of one language.

An item is a dict with at least `id`, `lang` and the fields its template's prompt names.
`choices` (list of strings) and `answer` are filled here when the data carries them; a
template with a fixed choice list (SIB-200) reads the gold label from `answer_field`.
Malformed records are skipped and counted by reason, never fatal.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openeurollm.errors import InputError
from openeurollm.registry import Registry

Item = dict[str, Any]
# (path, lang, split, skipped counter) -> items of that language and split
Reader = Callable[[Path, str, str | None, Counter], list[Item]]


def _load_published() -> None:
    import openeurollm.eval.tasks.published  # noqa: F401  (registers the published suites)


FORMATS: Registry[Reader] = Registry("task data format", loader=_load_published)


def _jsonl_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.jsonl"))
    if path.is_file():
        return [path]
    raise InputError(f"task data not found: {path}")


def _nonblank_lines(file: Path) -> list[tuple[int, str]]:
    """(line number, line) of a text file, blank lines left out."""
    with open(file, encoding="utf-8") as fh:
        return [(n, line) for n, line in enumerate(fh, start=1) if line.strip()]


@FORMATS.register("mc_jsonl")
def read_mc_jsonl(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """Lines {id, lang, question, choices, answer}; `answer` is an index or a choice's text."""
    items: list[Item] = []
    for file in _jsonl_files(path):
        for n, line in _nonblank_lines(file):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                skipped["not_json"] += 1
                continue
            if not isinstance(rec, dict) or rec.get("lang") != lang:
                continue
            choices = rec.get("choices")
            if not isinstance(choices, list) or len(choices) < 2:
                skipped["bad_choices"] += 1
                continue
            choices = [str(c) for c in choices]
            answer = rec.get("answer")
            if isinstance(answer, str) and answer in choices:
                answer = choices.index(answer)
            if not isinstance(answer, int) or not 0 <= answer < len(choices):
                skipped["bad_answer"] += 1
                continue
            items.append(
                {
                    **rec,
                    "id": str(rec.get("id", f"{file.name}:{n}")),
                    "choices": choices,
                    "answer": answer,
                }
            )
    return items


@FORMATS.register("sib200")
def read_sib200(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """<path>/<lang>/<split>.tsv with columns index_id, category, text (CSV-style quoting)."""
    file = path / lang / f"{split or 'dev'}.tsv"
    if not file.is_file():
        raise InputError(f"SIB-200 file not found: {file}")
    items: list[Item] = []
    with open(file, encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t")
        header = next(rows, [])
        for row in rows:
            if len(row) != len(header):
                skipped["bad_row"] += 1
                continue
            rec = dict(zip(header, row, strict=True))
            items.append({**rec, "id": rec.get("index_id", ""), "lang": lang})
    return items


# How to list a format's languages without reading its items (default: the `lang` field
# of every JSONL record).
LANGUAGE_LISTERS: Registry[Callable[[Path], set[str]]] = Registry(
    "task data format", loader=_load_published
)


def languages_in(fmt: str, path: Path) -> set[str]:
    """Languages present in a task's data (to intersect with the run's languages)."""
    if fmt in LANGUAGE_LISTERS:
        return LANGUAGE_LISTERS.get(fmt)(path)
    langs: set[str] = set()
    for file in _jsonl_files(path):
        with open(file, encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("lang"), str):
                    langs.add(rec["lang"])
    return langs


def subfolders(path: Path) -> set[str]:
    return {p.name for p in path.iterdir() if p.is_dir()} if path.is_dir() else set()


LANGUAGE_LISTERS.register("sib200")(subfolders)


def require(rec: Any, fields: Sequence[str], file: Path, line: int) -> dict[str, Any]:
    """The record, or a one-line error naming the file, the line and the expected field."""
    if not isinstance(rec, dict):
        raise InputError(f"{file}:{line}: expected an object with fields {', '.join(fields)}")
    for name in fields:
        if name not in rec:
            raise InputError(f"{file}:{line}: expected field {name!r}")
    return rec


def read_jsonl_records(file: Path, fields: Sequence[str]) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) of a JSONL file whose every record must have `fields`."""
    out = []
    for n, line in _nonblank_lines(file):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"{file}:{n}: not a JSON object") from None
        out.append((n, require(rec, fields, file, n)))
    return out


@FORMATS.register("parallel_text")
def read_parallel_text(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """<path>/<lang>.txt: one sentence per line, line i the same sentence in every language
    (the NTREX layout). Items {id: line number, text}."""
    file = path / f"{lang}.txt"
    if not file.is_file():
        raise InputError(f"aligned sentence file not found: {file}")
    lines = file.read_text(encoding="utf-8").splitlines()
    return [{"id": str(i), "lang": lang, "text": t} for i, t in enumerate(lines, 1) if t.strip()]


LANGUAGE_LISTERS.register("parallel_text")(lambda path: {p.stem for p in path.glob("*.txt")})


@FORMATS.register("qa_jsonl")
def read_qa_jsonl(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """Short-answer QA lines {id, lang, question, answer}: the answer is the reference."""
    items: list[Item] = []
    for file in _jsonl_files(path):
        for _, rec in read_jsonl_records(file, ("id", "lang", "question", "answer")):
            if rec["lang"] == lang:
                items.append({**rec, "id": str(rec["id"]), "answer": str(rec["answer"])})
    return items
