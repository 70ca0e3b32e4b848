"""The European suites in their published layouts: each read from small files we write in
exactly that layout (field names, splits, answer encoding); the items below are our own
writing, not copied from the datasets. A language without data is left out, not scored;
a record missing a field stops with the file, line and field."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openeurollm.errors import InputError
from openeurollm.eval.lm_eval_bridge import write_task_files
from openeurollm.eval.tasks import load_task, load_template


def _jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def _parquet(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(rows)), path)


def _belebele_row(k: int) -> dict[str, Any]:
    return {"link": f"https://example.org/{k}", "question_number": 1,
            "flores_passage": f"Passage {k} about a small house.", "question": f"Frage {k}?",
            "mc_answer1": "eins", "mc_answer2": "zwei", "mc_answer3": "drei",
            "mc_answer4": "vier", "correct_answer_num": str(k % 4 + 1),
            "dialect": "deu_Latn", "ds": "2023-05-03"}  # fmt: skip


def _option_row(k: int, answer: Any) -> dict[str, Any]:
    return {"sample_id": f"s{k}", "subject": "geography", "question": f"Question {k}?",
            "option_a": "north", "option_b": "south", "option_c": "east", "option_d": "west",
            "answer": answer}  # fmt: skip


def test_belebele_lettered(tmp_path: Path) -> None:
    _jsonl(tmp_path / "deu_Latn.jsonl", [_belebele_row(k) for k in range(3)])
    per_lang, _ = load_task(load_template("belebele"), tmp_path, ["de", "fr"], num_fewshot=1)
    assert sorted(per_lang) == ["de"]  # fr: no file, reported missing by the caller
    items = per_lang["de"]
    assert [i.gold for i in items] == [0, 1, 2] and items[0].choices == ("A", "B", "C", "D")
    assert items[0].context.endswith("P: Passage 0 about a small house.\nQ: Frage 0?\n"
                                     "A. eins\nB. zwei\nC. drei\nD. vier\nAnswer:")  # fmt: skip
    assert items[0].context.count("Answer:") == 2  # one example, never the item itself


@pytest.mark.parametrize("name,config,answers", [
    ("global_mmlu", "de", ["A", "C", "D"]),
    ("include", "German", [0, 2, 3]),
])  # fmt: skip
def test_four_option_suites(tmp_path: Path, name: str, config: str, answers: list) -> None:
    rows = [_option_row(k, a) for k, a in enumerate(answers)]
    _parquet(tmp_path / config / "test-00000-of-00001.parquet", rows)
    _parquet(tmp_path / config / "dev-00000-of-00001.parquet", [_option_row(9, answers[0])])
    per_lang, _ = load_task(load_template(name), tmp_path, ["de", "en"], num_fewshot=1)
    assert sorted(per_lang) == ["de"]
    assert [i.gold for i in per_lang["de"]] == [0, 2, 3]
    assert "A. north\nB. south\nC. east\nD. west\nAnswer:" in per_lang["de"][0].context
    if name == "global_mmlu":  # few-shot examples come from the dev split
        assert all(i.context.startswith("Question 9?") for i in per_lang["de"])


def test_opengptx_eu20_multiple_choice(tmp_path: Path) -> None:
    arc = {"id": "q1", "question": "Was wächst im Garten?",
           "choices": {"text": ["Steine", "Blumen", "Autos"], "label": ["A", "B", "C"]},
           "answerKey": "B"}  # fmt: skip
    _jsonl(tmp_path / "arc" / "challenge_DE" / "test.jsonl", [arc])
    _jsonl(tmp_path / "arc" / "easy_DE" / "test.jsonl", [{**arc, "id": "q2", "answerKey": "C"}])
    _jsonl(tmp_path / "arc" / "easy_PT-PT" / "test.jsonl", [{**arc, "id": "q3"}])
    per, _ = load_task(load_template("arcx"), tmp_path / "arc", ["de", "pt", "fr"])
    assert sorted(per) == ["de", "pt"]
    assert [(i.id, i.gold) for i in per["de"]] == [("q1", 1), ("q2", 2)]
    assert per["de"][0].choices == ("Steine", "Blumen", "Autos")

    hs = {"ind": 7, "activity_label": "Gartenarbeit", "ctx_a": "Sie", "ctx_b": "gießt",
          "ctx": "Sie gießt die Blumen", "endings": ["und lacht.", "im Auto.", "x", "y"],
          "source_id": "s", "split": "val", "split_type": "indomain", "label": "0"}  # fmt: skip
    _parquet(tmp_path / "hs" / "DE" / "validation-00000-of-00001.parquet", [hs])
    per, _ = load_task(load_template("hellaswagx"), tmp_path / "hs", ["de"])
    assert per["de"][0].context == "Gartenarbeit: Sie gießt die Blumen"
    assert per["de"][0].gold == 0 and len(per["de"][0].choices) == 4

    mm = {"question": "2 + 2 = ?", "choices": ["3", "4", "5", "6"], "answer": 1, "id": "m1"}
    for subject in ("college_mathematics", "philosophy"):
        _jsonl(tmp_path / "mm" / f"{subject}_FR" / "test.jsonl", [mm])
    per, _ = load_task(load_template("mmlux"), tmp_path / "mm", ["fr"])
    assert [i.gold for i in per["fr"]] == [1, 1] and per["fr"][0].choices == ("A", "B", "C", "D")

    tq = {"question": "Ist der Mond aus Käse?", "id": "t1",
          "mc1_targets": {"choices": ["Ja.", "Nein."], "labels": [0, 1]},
          "mc2_targets": {"choices": ["Ja.", "Nein."], "labels": [0, 1]}}  # fmt: skip
    _jsonl(tmp_path / "tq" / "mc_DE" / "validation.jsonl", [tq])
    per, _ = load_task(load_template("truthfulqax"), tmp_path / "tq", ["de"])
    assert per["de"][0].gold == 1 and per["de"][0].context == "Q: Ist der Mond aus Käse?\nA:"


def test_xnli_and_gsm8kx(tmp_path: Path) -> None:
    rows = [{"premise": "Das Haus ist klein.", "hypothesis": "Das Haus ist groß.", "label": 2}]
    _parquet(tmp_path / "xnli" / "de" / "test-00000-of-00001.parquet", rows)
    per, _ = load_task(load_template("xnli"), tmp_path / "xnli", ["de"])
    assert per["de"][0].gold == 2 and per["de"][0].choices == ("True", "Neither", "False")

    g = {"question": "Anna hat 3 Äpfel und kauft 2. Wie viele?", "answer": "3 + 2 = 5\n#### 5"}
    _jsonl(tmp_path / "gsm" / "DE" / "test.jsonl", [g])
    _jsonl(tmp_path / "gsm" / "DE" / "train.jsonl", [{**g, "answer": "1 + 1 = 2\n#### 2"}])
    template = load_template("gsm8kx")
    per, _ = load_task(template, tmp_path / "gsm", ["de"], num_fewshot=1)
    inst = per["de"][0]
    assert inst.reference == "5" and "1 + 1 = 2\n#### 2\n\nQuestion: Anna" in inst.context
    from openeurollm.eval.tasks.generative import score_generations

    scores = score_generations(template, [inst, inst], [" 3 + 2 = 5\n#### 5", "fünf"])
    assert scores["de"]["value"] == 0.5 and scores["de"]["n"] == 2
    names = write_task_files("gsm", per, tmp_path / "lm", template)
    spec = (tmp_path / "lm" / f"{next(iter(names))}.yaml").read_text()
    assert "generate_until" in spec and "regex_pattern" in spec


def test_flores200_both_directions(tmp_path: Path) -> None:
    for split in ("dev", "devtest"):
        (tmp_path / split).mkdir()
        (tmp_path / split / f"eng_Latn.{split}").write_text(f"One {split}.\nTwo {split}.\n")
        (tmp_path / split / f"deu_Latn.{split}").write_text(f"Eins {split}.\nZwei {split}.\n")
        (tmp_path / split / f"lvs_Latn.{split}").write_text("Viens.\nDivi.\n")
    per, _ = load_task(load_template("flores200"), tmp_path, ["de", "en", "lv", "fr"], 1)
    assert sorted(per) == ["de-en", "en-de", "en-lv", "lv-en"]
    first = per["en-de"][0]
    assert first.reference == "Eins devtest." and first.context.endswith(
        "English: One devtest.\nGerman:"
    )
    assert "English: Two dev.\nGerman: Zwei dev.\n\n" in first.context  # from the dev split


@pytest.mark.parametrize("name,path,row,field", [
    ("belebele", "deu_Latn.jsonl", {"question": "q?"}, "flores_passage"),
    ("global_mmlu", "de/test.jsonl", {"question": "q?", "option_a": "x"}, "option_b"),
    ("arcx", "challenge_DE/test.jsonl", {"id": "1", "question": "q?", "choices": []}, "answerKey"),
    ("xnli", "de/test.jsonl", {"premise": "p", "label": 0}, "hypothesis"),
])  # fmt: skip
def test_wrong_layout_names_file_line_and_field(
    tmp_path: Path, name: str, path: str, row: dict, field: str
) -> None:
    good = {"premise": "p", "hypothesis": "h", "label": 0} if name == "xnli" else None
    _jsonl(tmp_path / path, [r for r in (good, row) if r])
    with pytest.raises(InputError) as err:
        load_task(load_template(name), tmp_path, ["de"])
    line = 2 if good else 1
    assert str(err.value) == f"{tmp_path / path}:{line}: expected field {field!r}"
