"""Generative tasks agree with lm-evaluation-harness's `generate_until` (HF backend, offline,
on the exported model): the same greedy text for every prompt, and the same chrF++ and exact
match. One lm_eval process runs translation (NTREX, both directions) and short-answer QA on
our prompts, and the translation task again with lm-eval building the 1-shot prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from openeurollm.eval.lm_eval_bridge import invoke_lm_eval, write_task_files
from openeurollm.eval.lm_eval_native import write_native_task_files
from openeurollm.eval.run import TaskRun, run_task
from openeurollm.eval.scorer import Scorer
from openeurollm.eval.tasks import load_task, load_template
from openeurollm.eval.tasks.generative import task_items
from openeurollm.tokenizer.encoder import TextTokenizer

MAX_LENGTH = 256

# Our own short questions in the tiny model's two languages; answers it may or may not get.
QA = [
    ("en", "the house is", "small"), ("en", "the garden is", "green"),
    ("en", "we walk to the", "river"), ("de", "das haus ist", "klein"),
    ("de", "der garten ist", "grün"), ("de", "wir gehen zum", "fluss"),
]  # fmt: skip


@pytest.mark.slow
def test_generations_and_scores_equal_lm_eval(trained, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("lm_eval")
    model, tok_path, hf_dir = trained
    tok = TextTokenizer.from_file(tok_path)
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps({"id": f"q{i}", "lang": lang, "question": q,
                  "answer": a}) + "\n" for i, (lang, q, a) in enumerate(QA)))  # fmt: skip
    # the built-in translation template, generating at most 24 tokens (keeps the test short)
    short = tmp_path / "translation.yaml"
    short.write_text(
        yaml.safe_dump(load_template("translation").model_dump() | {"max_gen_toks": 24})
    )
    tasks = {
        "ntrex": TaskRun("ntrex", str(short), shared_data / "ntrex", ["en", "de"], 1, 3, 3),
        "qa": TaskRun("qa", "qa_jsonl", qa, ["en", "de"], 0, 3, None),
    }
    scorer = Scorer(model, batch_size=8, max_length=MAX_LENGTH)
    ours = {name: run_task(scorer, tok, t) for name, t in tasks.items()}
    assert sorted(ours["ntrex"]["per_language"]) == ["de-en", "en-de"]
    assert sorted(ours["qa"]["per_language"]) == ["de", "en"]

    names: dict[str, tuple[str, str]] = {}
    per_keys = {}
    generations: dict[tuple[str, str], list[str]] = {}
    for name, t in tasks.items():
        template = load_template(t.template)
        per_key, _ = load_task(template, t.path, t.languages, t.num_fewshot, t.seed, t.limit)
        per_keys[name] = per_key
        for lm_name, key in write_task_files(
            name, per_key, tmp_path / "lm" / "tasks", template
        ).items():
            names[lm_name] = (name, key)
        gen = scorer_generations(model, tok, per_key, template)
        generations.update({(name, k): v for k, v in gen.items()})
    # the same translation task once more, lm-eval building the 1-shot prompts itself
    native = write_native_task_files(
        "native", load_template(str(short)),
        task_items(load_template(str(short)), shared_data / "ntrex", ["en", "de"], 1),
        tmp_path / "lm" / "tasks", 1,
    )  # fmt: skip
    results, samples, _, _ = invoke_lm_eval(
        hf_dir, [*names, *native], tmp_path / "lm", 8, MAX_LENGTH, threads=1,
        log_samples=True, fewshot_seed=3, limit=3,
    )  # fmt: skip
    for lm_name, key in native.items():  # lm-eval's own 1-shot prompts: the same texts
        by_doc = sorted(samples[lm_name], key=lambda s: s["doc_id"])
        assert [s["filtered_resps"][0] for s in by_doc] == generations[("ntrex", key)], lm_name
        value = ours["ntrex"]["per_language"][key]["value"]
        assert abs(results[lm_name]["chrf++,none"] - value) <= 0.5
    for lm_name, (name, key) in names.items():
        theirs = [
            s["filtered_resps"][0] for s in sorted(samples[lm_name], key=lambda s: s["doc_id"])
        ]
        assert theirs == generations[(name, key)], (lm_name, theirs)
        metric = "chrf++" if name == "ntrex" else "exact_match"
        ours_value = ours[name]["per_language"][key]["value"]
        scale = 1.0 if metric == "chrf++" else 100.0  # chrF++ is already in points
        assert abs(results[lm_name][f"{metric},none"] - ours_value) * scale <= 0.5, lm_name
    assert any(g for g in generations.values())
    # run_task generated the same texts (its results keep the first few as examples)
    for ex in ours["ntrex"]["examples"]:
        position = [i.id for i in per_keys["ntrex"][ex["key"]]].index(ex["id"])
        assert ex["generation"] == generations[("ntrex", ex["key"])][position]


def scorer_generations(model, tok, per_key, template) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Our greedy generations per key, in instance order (what run_task scored)."""
    from openeurollm.eval.generation import our_generator

    gen = our_generator(model, tok, 8, MAX_LENGTH)
    return {
        key: gen.generate(tok.encode_batch([i.context for i in insts]), template.until,
                          template.max_gen_toks)
        for key, insts in per_key.items()
    }  # fmt: skip
