"""A reference model (any Hugging Face folder) runs the same tasks as ours: on our own model's
export it must give our numbers, multiple choice and generation alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from openeurollm.config import recipe_from_dict
from openeurollm.errors import RecipeError
from openeurollm.eval.run import TaskRun, run_reference_models, run_task
from openeurollm.eval.scorer import Scorer
from openeurollm.tokenizer.encoder import TextTokenizer


def test_reference_model_gives_our_numbers_on_our_export(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, tok_path, hf_dir = trained
    tok = TextTokenizer.from_file(tok_path)
    mc = tmp_path / "mc.jsonl"
    rows = [{"id": f"{lang}{k}", "lang": lang, "question": q, "choices": ["small", "green", "river"],
             "answer": k % 3} for lang, q in (("en", "the house is"), ("de", "das haus ist"))
            for k in range(4)]  # fmt: skip
    mc.write_text("".join(json.dumps(r) + "\n" for r in rows))
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"id": "1", "lang": "en", "question": "the garden", "answer": "is"}) + "\n"
    )
    tasks = [TaskRun("mc", "mc_jsonl", mc, ["en", "de"], 1, 5, None),
             TaskRun("qa", "qa_jsonl", qa, ["en"], 0, 5, None)]  # fmt: skip
    ours = {t.name: run_task(Scorer(model, 4, 128), tok, t) for t in tasks}
    refs = run_reference_models([hf_dir], tasks, 4, 128, torch.device("cpu"))
    assert sorted(refs) == ["mc@hf", "qa@hf"] and refs["mc@hf"]["reference_model"] == "hf"
    for lang in ("en", "de"):
        a, b = ours["mc"]["per_language"][lang], refs["mc@hf"]["per_language"][lang]
        assert (a["acc"], a["acc_norm"], a["acc_tokens"], a["n"]) == (
            b["acc"], b["acc_norm"], b["acc_tokens"], b["n"])  # fmt: skip
    assert refs["qa@hf"]["examples"][0]["generation"] == ours["qa"]["examples"][0]["generation"]


def test_reference_model_folder_is_checked(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"text": "x", "lang": "en"}\n')
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(RecipeError, match=r"reference_models.*not a Hugging Face model folder"):
        recipe_from_dict(
            {"run": {"name": "t"}, "ingest": {"inputs": [{"path": "corpus.jsonl"}]},
             "eval": {"reference_models": ["not-a-model"]}}, tmp_path,
        )  # fmt: skip
