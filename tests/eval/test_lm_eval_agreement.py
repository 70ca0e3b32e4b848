"""Our scores agree with lm-evaluation-harness (HF backend, run offline on the exported model)
within 0.5 accuracy points per language on SIB-200, on a tiny trained model, zero- and
few-shot, with lm-eval building every prompt and choosing the few-shot examples itself from
the task YAMLs we generate (fewshot_split train, num_fewshot, the same seed)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from openeurollm.eval.lm_eval_bridge import invoke_lm_eval
from openeurollm.eval.lm_eval_native import write_native_task_files
from openeurollm.eval.run import TaskRun, run_task
from openeurollm.eval.scorer import Scorer
from openeurollm.eval.tasks import load_template
from openeurollm.eval.tasks.generative import task_items
from openeurollm.release.hf_export import export_hf
from openeurollm.tokenizer.encoder import TextTokenizer

from .tiny import tiny_model, tiny_tokenizer, train_tiny

LANGS = ["de", "en", "fr", "pl", "el"]
MAX_LENGTH = 256
SEED = 1234


def _sib_texts(root: Path, lang: str) -> list[str]:
    with open(root / lang / "train.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))[1:]
    return [f"Text: {r[2]}\nTopic: {r[1]}" for r in rows]


@pytest.mark.slow
def test_sib200_agrees_with_lm_eval_building_its_own_prompts(
    shared_data: Path, tmp_path: Path
) -> None:
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
    template = load_template("sib200")
    scorer = Scorer(model, batch_size=32, max_length=MAX_LENGTH)

    ours, names = {}, {}
    for shots, langs in ((0, LANGS), (1, ["de"])):  # few-shot contexts are longer: one language
        task = TaskRun(f"sib{shots}", "sib200", sib, langs, shots, SEED, None)
        ours[shots] = run_task(scorer, tok, task)
        keyed = task_items(template, sib, langs, shots)
        written = write_native_task_files(
            task.name, template, keyed, tmp_path / "lm" / "tasks", shots
        )
        names.update({name: (shots, key) for name, key in written.items()})
    results, _, _, _ = invoke_lm_eval(
        hf_dir, list(names), tmp_path / "lm", 32, MAX_LENGTH, threads=1, fewshot_seed=SEED
    )
    assert len(names) == len(LANGS) + 1
    for name, (shots, lang) in names.items():
        a, b = ours[shots]["per_language"][lang], results[name]
        assert a["n"] == 99
        for metric in ("acc", "acc_norm", "acc_bytes"):
            assert abs(a[metric] - b[f"{metric},none"]) * 100 <= 0.5, (name, metric, a, b)
    # the trained model is better than picking a topic at random in at least one language
    assert max(ours[0]["per_language"][lang]["acc"] for lang in LANGS) > 1 / 7
