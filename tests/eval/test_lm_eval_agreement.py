"""Our scores agree with lm-evaluation-harness (HF backend, run offline on the exported model)
within 0.5 accuracy points per language on SIB-200, on a tiny trained model.
Zero-shot keeps it short; benchmarks/eval.py compares the two 1-shot as well."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from openeurollm.eval.lm_eval_bridge import SOURCE, run_lm_eval
from openeurollm.eval.run import TaskRun, run_task
from openeurollm.eval.scorer import Scorer
from openeurollm.release.hf_export import export_hf
from openeurollm.tokenizer.encoder import TextTokenizer

from .tiny import tiny_model, tiny_tokenizer, train_tiny

LANGS = ["de", "en", "fr", "pl", "el"]
MAX_LENGTH = 256


def _sib_texts(root: Path, lang: str) -> list[str]:
    with open(root / lang / "train.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))[1:]
    return [f"Text: {r[2]}\nTopic: {r[1]}" for r in rows]


@pytest.mark.slow
def test_sib200_agrees_with_lm_eval(shared_data: Path, tmp_path: Path) -> None:
    pytest.importorskip("lm_eval")
    sib = shared_data / "sib200"
    texts = [t for lang in LANGS for t in _sib_texts(sib, lang)]
    tok_path = tiny_tokenizer(tmp_path / "tokenizer.json", vocab_size=600, texts=texts)
    tok = TextTokenizer.from_file(tok_path)
    model = train_tiny(
        tiny_model(tok.vocab_size, seed=4), tok.encode_batch(texts), tok.eos_id, steps=200
    )
    hf_dir = tmp_path / "hf"
    export_hf(model.state_dict(), model.args, tok_path, hf_dir)

    task = TaskRun(name="sib200", template="sib200", path=sib, languages=LANGS, num_fewshot=0,
                   seed=1234, limit=None)  # fmt: skip
    ours = run_task(Scorer(model, batch_size=32, max_length=MAX_LENGTH), tok, task)

    from openeurollm.eval.tasks import load_task, load_template

    per_lang, _ = load_task(load_template("sib200"), sib, LANGS, 0, 1234)
    theirs = run_lm_eval(
        hf_dir, "sib200", per_lang, tmp_path / "lm-eval", 32, MAX_LENGTH, threads=1
    )
    assert theirs["source"] == SOURCE and ours["source"] == "openeurollm"
    assert sorted(theirs["per_language"]) == sorted(LANGS)
    for lang in LANGS:
        a, b = ours["per_language"][lang], theirs["per_language"][lang]
        assert a["n"] == b["n"] == 99
        assert abs(a["acc"] - b["acc"]) * 100 <= 0.5, (lang, a, b)
        assert abs(a["acc_norm"] - b["acc_norm"]) * 100 <= 0.5, (lang, a, b)
    # the trained model is better than picking a topic at random in at least one language
    assert max(ours["per_language"][lang]["acc"] for lang in LANGS) > 1 / 7
