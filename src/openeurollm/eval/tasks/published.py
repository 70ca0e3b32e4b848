"""Readers for the European evaluation suites in the layouts they are published in.

A recipe points at a local copy (downloaded beforehand: nothing is fetched at run time).
Files are found per dataset *config* and *split*, in any of the layouts a Hugging Face
dataset is copied in: `<root>/<config>/<split>-*.parquet|jsonl` (the repository's files),
`<root>/<config>/<split>/*.parquet|jsonl` (the parquet conversion) or
`<root>/<config>/<split>.parquet|jsonl` (`Dataset.to_json`/`to_parquet`). Field names,
splits and answer encodings are the published ones; each reader turns a record into our
item (id, lang, and the fields the template's prompt names, `choices` and `answer` index).

| format        | dataset (config per language)               | answer encoding            |
| belebele      | facebook/belebele (`deu_Latn`), or `<code>.jsonl` | correct_answer_num "1".."4" |
| global_mmlu   | CohereForAI/Global-MMLU (`de`)              | answer "A".."D"            |
| include       | CohereForAI/include-base-44 (`German`)       | answer 0..3                |
| arcx          | openGPT-X/arcx (`challenge_DE`, `easy_DE`)   | answerKey, a choices.label |
| hellaswagx    | openGPT-X/hellaswagx (`DE`)                  | label "0".."3"             |
| mmlux         | openGPT-X/mmlux (`<subject>_DE`, all subjects) | answer 0..3              |
| truthfulqax   | openGPT-X/truthfulqax (`mc_DE`, MC1)         | mc1_targets.labels one 1   |
| gsm8kx        | openGPT-X/gsm8kx (`DE`)                      | answer "... #### 42"       |
| xnli          | facebook/xnli (`de`)                         | label 0/1/2                |
| flores200     | flores200_dataset/<split>/<code>.<split>     | aligned lines              |

A record without a field the layout requires stops with the file, line and field.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openeurollm.errors import InputError
from openeurollm.eval.tasks.formats import FORMATS, LANGUAGE_LISTERS, Item, require
from openeurollm.eval.tasks.languages import (
    EU_LANGUAGES,
    flores_code,
    from_flores_code,
    from_language_name,
    language_name,
)

LETTERS = "ABCDEFGHIJ"
_EXTS = (".parquet", ".jsonl", ".json")


def split_files(root: Path, config: str, split: str) -> list[Path]:
    folder = root / config
    for pattern in (f"{split}-*", f"{split}/*", f"{split}.*"):
        found = sorted(p for p in folder.glob(pattern) if p.suffix in _EXTS and p.is_file())
        if found:
            return found
    return []


def read_records(files: Sequence[Path]) -> list[tuple[Path, int, dict[str, Any]]]:
    """(file, line or row number, record) from Parquet or JSON-lines files."""
    out = []
    for file in files:
        if file.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(file).to_pylist()
            out += [(file, n, row) for n, row in enumerate(rows, start=1)]
            continue
        with open(file, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        out.append((file, n, json.loads(line)))
                    except json.JSONDecodeError:
                        raise InputError(f"{file}:{n}: not a JSON object") from None
    return out


def _config_records(
    root: Path, config: str, split: str, fields: Sequence[str]
) -> list[tuple[Path, int, dict[str, Any]]]:
    files = split_files(root, config, split)
    if not files:
        raise InputError(f"no {split!r} split for {config!r} under {root} (expected "
                         f"{root / config}/{split}-*.parquet or .jsonl)")  # fmt: skip
    return [(f, n, require(rec, fields, f, n)) for f, n, rec in read_records(files)]


def _upper_code(lang: str) -> str:
    """openGPT-X's config suffix: the upper-case ISO code; Portuguese is `PT-PT`."""
    return "PT-PT" if lang == "pt" else lang.upper()


def _from_upper_code(suffix: str) -> str:
    return "pt" if suffix == "PT-PT" else suffix.lower()


def _answer_index(value: Any, n: int, file: Path, line: int, field: str) -> int:
    if isinstance(value, str) and value.strip() in LETTERS[:n]:
        return LETTERS.index(value.strip())
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and 0 <= value < n:
        return value
    raise InputError(f"{file}:{line}: field {field!r} is not an answer among {n} choices")


Reader = Callable[[Path, str, str | None, Counter], list[Item]]


def _register(name: str, languages: Callable[[Path], set[str]]) -> Callable[[Reader], Reader]:
    def add(reader: Reader) -> Reader:
        FORMATS.register(name)(reader)
        LANGUAGE_LISTERS.register(name)(languages)
        return reader

    return add


def _folders(root: Path) -> list[str]:
    return [p.name for p in root.iterdir() if p.is_dir()] if root.is_dir() else []


# --- Belebele ------------------------------------------------------------------------


def _belebele_file(root: Path, lang: str, split: str | None) -> list[Path]:
    code = flores_code(lang)
    for candidate in (root / f"{code}.jsonl", root / "data" / f"{code}.jsonl"):
        if candidate.is_file():
            return [candidate]
    return split_files(root, code, split or "test")


def _belebele_languages(root: Path) -> set[str]:
    names = {p.stem for p in [*root.glob("*.jsonl"), *root.glob("data/*.jsonl")]}
    return {from_flores_code(n) for n in names | set(_folders(root))}


BELEBELE_FIELDS = ("flores_passage", "question", "mc_answer1", "mc_answer2", "mc_answer3",
                   "mc_answer4", "correct_answer_num")  # fmt: skip


@_register("belebele", _belebele_languages)
def read_belebele(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    files = _belebele_file(path, lang, split)
    if not files:
        raise InputError(f"Belebele file not found for {lang} under {path}")
    items = []
    for file, n, rec in read_records(files):
        rec = require(rec, BELEBELE_FIELDS, file, n)
        choices = [str(rec[f"mc_answer{k}"]) for k in range(1, 5)]
        answer = str(rec["correct_answer_num"]).strip()
        if answer not in ("1", "2", "3", "4"):
            raise InputError(f"{file}:{n}: field 'correct_answer_num' must be one of 1..4")
        item_id = f"{rec.get('link', '')}#{rec.get('question_number', n)}"
        items.append({**rec, "id": item_id, "lang": lang, "passage": rec["flores_passage"],
                      "choices": choices, "answer": int(answer) - 1})  # fmt: skip
    return items


# --- Global-MMLU, INCLUDE (four lettered options) ---------------------------------------

OPTION_FIELDS = ("question", "option_a", "option_b", "option_c", "option_d", "answer")


def _four_options(root: Path, config: str, lang: str, split: str) -> list[Item]:
    items = []
    for file, n, rec in _config_records(root, config, split, OPTION_FIELDS):
        choices = [str(rec[f"option_{c}"]) for c in "abcd"]
        answer = _answer_index(rec["answer"], 4, file, n, "answer")
        item_id = str(rec.get("sample_id") or f"{file.name}:{n}")
        items.append({**rec, "id": item_id, "lang": lang, "choices": choices, "answer": answer})
    return items


@_register("global_mmlu", lambda root: set(_folders(root)))
def read_global_mmlu(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    return _four_options(path, lang, lang, split or "test")


@_register("include", lambda root: {from_language_name(n) for n in _folders(root)})
def read_include(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    config = language_name(lang) if (path / language_name(lang)).is_dir() else lang
    return _four_options(path, config, lang, split or "test")


# --- openGPT-X EU20: ARC, HellaSwag, MMLU, TruthfulQA (MC1), GSM8K ------------------------


def _suffixed_languages(root: Path) -> set[str]:
    """Languages of configs named `<anything>_<CODE>` or `<CODE>`."""
    out = set()
    for name in _folders(root):
        code = _from_upper_code(name.rsplit("_", 1)[-1])
        if code in EU_LANGUAGES:
            out.add(code)
    return out


@_register("arcx", _suffixed_languages)
def read_arcx(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """Both ARC subsets (`challenge_XX`, `easy_XX`) that exist; the subset is a field."""
    items = []
    for subset in ("challenge", "easy"):
        config = f"{subset}_{_upper_code(lang)}"
        if not (path / config).is_dir():
            continue
        for file, n, rec in _config_records(path, config, split or "test",
                                            ("id", "question", "choices", "answerKey")):  # fmt: skip
            choices = rec["choices"]
            if not isinstance(choices, dict) or "text" not in choices or "label" not in choices:
                raise InputError(f"{file}:{n}: expected field 'choices' with 'text' and 'label'")
            labels = [str(x) for x in choices["label"]]
            if str(rec["answerKey"]) not in labels:
                raise InputError(f"{file}:{n}: field 'answerKey' is not one of choices.label")
            items.append({**rec, "id": str(rec["id"]), "lang": lang, "subset": subset,
                          "choices": [str(t) for t in choices["text"]],
                          "answer": labels.index(str(rec["answerKey"]))})  # fmt: skip
    return items


@_register("hellaswagx", _suffixed_languages)
def read_hellaswagx(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    items = []
    fields = ("ind", "activity_label", "ctx", "endings", "label")
    for file, n, rec in _config_records(path, _upper_code(lang), split or "validation", fields):
        endings = [str(e) for e in rec["endings"]]
        answer = _answer_index(str(rec["label"]), len(endings), file, n, "label")
        items.append({**rec, "id": str(rec["ind"]), "lang": lang, "choices": endings,
                      "answer": answer})  # fmt: skip
    return items


@_register("mmlux", _suffixed_languages)
def read_mmlux(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """Every subject config `<subject>_XX`; the subject is a field."""
    items = []
    suffix = f"_{_upper_code(lang)}"
    for config in sorted(c for c in _folders(path) if c.endswith(suffix)):
        subject = config.removesuffix(suffix)
        fields = ("question", "choices", "answer")
        for file, n, rec in _config_records(path, config, split or "test", fields):
            choices = [str(c) for c in rec["choices"]]
            answer = _answer_index(rec["answer"], len(choices), file, n, "answer")
            item_id = str(rec.get("id") or f"{config}:{n}")
            items.append({**rec, "id": item_id, "lang": lang, "subject": subject.replace("_", " "),
                          "choices": choices, "answer": answer})  # fmt: skip
    return items


@_register("truthfulqax", _suffixed_languages)
def read_truthfulqax(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """MC1: the one true answer among `mc1_targets.choices` (label 1)."""
    items = []
    config = f"mc_{_upper_code(lang)}"
    for file, n, rec in _config_records(path, config, split or "validation",
                                        ("question", "mc1_targets")):  # fmt: skip
        targets = rec["mc1_targets"]
        labels = targets.get("labels") if isinstance(targets, dict) else None
        if not isinstance(labels, list) or labels.count(1) != 1 or "choices" not in targets:
            raise InputError(
                f"{file}:{n}: expected field 'mc1_targets' with choices and one label 1"
            )
        item_id = str(rec.get("id") or f"{config}:{n}")
        items.append({**rec, "id": item_id, "lang": lang,
                      "choices": [str(c) for c in targets["choices"]],
                      "answer": labels.index(1)})  # fmt: skip
    return items


@_register("gsm8kx", _suffixed_languages)
def read_gsm8kx(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """`answer` is the worked solution ending in `#### <number>`; `final_answer` the number."""
    items = []
    for file, n, rec in _config_records(path, _upper_code(lang), split or "test",
                                        ("question", "answer")):  # fmt: skip
        solution = str(rec["answer"])
        if "####" not in solution:
            raise InputError(f"{file}:{n}: field 'answer' does not end in '#### <number>'")
        item_id = str(rec.get("id") or f"{file.name}:{n}")
        items.append({**rec, "id": item_id, "lang": lang, "answer": solution,
                      "final_answer": solution.rsplit("####", 1)[1].strip()})  # fmt: skip
    return items


# --- XNLI, FLORES-200 ------------------------------------------------------------------


@_register("xnli", lambda root: set(_folders(root)))
def read_xnli(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """label 0 entailment, 1 neutral, 2 contradiction (the published encoding)."""
    items = []
    for file, n, rec in _config_records(path, lang, split or "test",
                                        ("premise", "hypothesis", "label")):  # fmt: skip
        _answer_index(rec["label"], 3, file, n, "label")
        items.append({**rec, "id": f"{split or 'test'}:{n}", "lang": lang})
    return items


def _flores_languages(root: Path) -> set[str]:
    return {from_flores_code(p.stem) for p in root.glob("*/*") if p.is_file()}


@_register("flores200", _flores_languages)
def read_flores200(path: Path, lang: str, split: str | None, skipped: Counter) -> list[Item]:
    """flores200_dataset/<split>/<code>.<split>: one sentence per line, aligned."""
    split = split or "devtest"
    file = path / split / f"{flores_code(lang)}.{split}"
    if not file.is_file():
        raise InputError(f"FLORES-200 file not found: {file}")
    lines = file.read_text(encoding="utf-8").splitlines()
    return [{"id": str(i), "lang": lang, "text": t} for i, t in enumerate(lines, 1)]
