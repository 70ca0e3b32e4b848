"""For every published suite, lm-eval loading the task YAMLs we generate builds exactly our
prompts, one-shot, choosing the same example with its own seeded sampler, and reads the
same choices and gold answer. No model runs: lm-eval's task objects render the contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from openeurollm.eval.lm_eval_native import write_native_task_files
from openeurollm.eval.tasks import load_task, load_template
from openeurollm.eval.tasks.generative import task_items

from .test_published import _belebele_row, _jsonl, _option_row, _parquet

SEED = 11


def _write_suites(root: Path) -> dict[str, Path]:
    _jsonl(root / "belebele" / "deu_Latn.jsonl", [_belebele_row(k) for k in range(4)])
    gm = root / "gmmlu" / "de"
    _parquet(gm / "test-00000-of-00001.parquet", [_option_row(k, "ABCD"[k]) for k in range(4)])
    _parquet(gm / "dev-00000-of-00001.parquet", [_option_row(10 + k, "B") for k in range(3)])
    arc = [{"id": f"a{k}", "question": f"Frage {k}?", "answerKey": "1",
            "choices": {"text": ["ja", "nein"], "label": ["1", "2"]}} for k in range(3)]  # fmt: skip
    _jsonl(root / "arc" / "easy_DE" / "test.jsonl", arc)
    _jsonl(root / "arc" / "easy_DE" / "train.jsonl", arc)
    _jsonl(
        root / "xnli" / "de" / "test.jsonl",
        [
            {"premise": f"Satz {k}.", "hypothesis": f"Aussage {k}.", "label": k % 3}
            for k in range(3)
        ],
    )
    _jsonl(root / "xnli" / "de" / "validation.jsonl",
           [{"premise": "P.", "hypothesis": "H.", "label": 1}])  # fmt: skip
    gsm = [
        {"question": f"{k} + 1?", "answer": f"{k} + 1 = {k + 1}\n#### {k + 1}"} for k in range(3)
    ]
    _jsonl(root / "gsm" / "DE" / "test.jsonl", gsm)
    _jsonl(root / "gsm" / "DE" / "train.jsonl", gsm)
    for split in ("dev", "devtest"):
        (root / "flores" / split).mkdir(parents=True)
        (root / "flores" / split / f"eng_Latn.{split}").write_text("One.\nTwo.\nThree.\n")
        (root / "flores" / split / f"deu_Latn.{split}").write_text("Eins.\nZwei.\nDrei.\n")
    return {"belebele": root / "belebele", "global_mmlu": root / "gmmlu", "arcx": root / "arc",
            "xnli": root / "xnli", "gsm8kx": root / "gsm", "flores200": root / "flores"}  # fmt: skip


@pytest.mark.slow
def test_lm_eval_builds_our_prompts_from_the_yamls(tmp_path: Path) -> None:
    pytest.importorskip("lm_eval")
    from lm_eval.tasks import TaskManager, get_task_dict

    expected, names = {}, {}
    for name, path in _write_suites(tmp_path / "data").items():
        template = load_template(name)
        ours, _ = load_task(template, path, ["de", "en"], num_fewshot=1, seed=SEED)
        keyed = task_items(template, path, ["de", "en"], 1)
        for lm_name, key in write_native_task_files(
            name, template, keyed, tmp_path / "tasks", 1
        ).items():
            names[lm_name] = name
            expected[lm_name] = ours[key]
    assert len(names) == 7  # flores200: en-de and de-en
    tasks = get_task_dict(list(names), TaskManager(include_path=str(tmp_path / "tasks"),
                                                   include_defaults=False))  # fmt: skip
    for lm_name, task in tasks.items():
        task.set_fewshot_seed(SEED)
        docs = list(task.test_docs())
        assert len(docs) == len(expected[lm_name])
        for doc, inst in zip(docs, expected[lm_name], strict=True):
            assert task.fewshot_context(doc, 1) == inst.context, lm_name
            if hasattr(inst, "choices"):
                assert task.doc_to_choice(doc) == list(inst.choices)
                assert task.doc_to_target(doc) == inst.gold
            else:
                assert task.doc_to_target(doc) == inst.reference
