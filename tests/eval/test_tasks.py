"""Multiple-choice tasks from templates: per-language generation, seeded few-shot, scoring."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from openeurollm.errors import RecipeError
from openeurollm.eval.scorer import Scorer
from openeurollm.eval.tasks import (
    build_instances,
    load_task,
    load_template,
    score_instances,
    summarize,
    task_texts,
)
from openeurollm.eval.tasks.formats import read_mc_jsonl
from openeurollm.tokenizer.encoder import TextTokenizer

from .tiny import tiny_model, tiny_tokenizer

SIB_LANGS = ["de", "en", "fr", "pl", "el", "fi", "mt"]


def test_sib200_generated_per_language(shared_data: Path) -> None:
    template = load_template("sib200")
    per_lang, skipped = load_task(template, shared_data / "sib200", [*SIB_LANGS, "xx"])
    assert sorted(per_lang) == sorted(SIB_LANGS) and skipped == {}
    for lang, items in per_lang.items():
        assert len(items) == 99, lang  # every dev row, quoted texts included
        assert all(i.choices == tuple(template.choices) for i in items)
    # rows are aligned across languages: same ids, same gold labels
    gold = {lang: [(i.id, i.gold) for i in items] for lang, items in per_lang.items()}
    assert all(g == gold["en"] for g in gold.values())
    quoted = [i for i in per_lang["de"] if '"' in i.context]
    assert quoted and all("\t" not in i.context for i in quoted)


def test_fewshot_is_seeded_and_follows_lm_eval_sampling(shared_data: Path) -> None:
    template = load_template("sib200")
    a, _ = load_task(template, shared_data / "sib200", ["fr"], num_fewshot=3, seed=7, limit=20)
    b, _ = load_task(template, shared_data / "sib200", ["fr"], num_fewshot=3, seed=7, limit=20)
    c, _ = load_task(template, shared_data / "sib200", ["fr"], num_fewshot=3, seed=8, limit=20)
    assert [i.context for i in a["fr"]] == [i.context for i in b["fr"]]
    assert [i.context for i in a["fr"]] != [i.context for i in c["fr"]]
    first = a["fr"][0]
    assert first.context.count("\n\n") == 3 and first.context.endswith("\nTopic:")
    # lm-eval's default sampler: one Random(seed) per task; per item in order, k + 1 drawn
    # from the split and the item itself dropped; a limit keeps a prefix, same examples
    items = [
        {"id": str(k), "question": f"q{k}", "choices": ["a", "b"], "answer": k % 2}
        for k in range(10)
    ]
    mc = load_template("mc_jsonl")
    full = build_instances(mc, items, "en", num_fewshot=2, seed=1)
    assert build_instances(mc, items, "en", num_fewshot=2, seed=1, limit=4) == full[:4]
    rng = random.Random(1)
    for item, inst in zip(items, full, strict=True):
        examples = [x for x in rng.sample(items, 3) if x != item][:2]
        shown = [
            f"Question: {x['question']}\nAnswer: {x['choices'][x['answer']]}" for x in examples
        ]
        assert inst.context == "\n\n".join([*shown, f"Question: {item['question']}\nAnswer:"])
    assert all(f"Question: q{k}\n" not in full[k].context[:-20] for k in range(10))


def test_mc_jsonl_skips_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        {"id": "1", "lang": "de", "question": "Q?", "choices": ["a", "b"], "answer": 1},
        {"id": "2", "lang": "de", "question": "Q?", "choices": ["a", "b"], "answer": "b"},
        {"id": "3", "lang": "de", "question": "Q?", "choices": ["a"], "answer": 0},
        {"id": "4", "lang": "de", "question": "Q?", "choices": ["a", "b"], "answer": 5},
        {"id": "5", "lang": "fr", "question": "Q?", "choices": ["a", "b"], "answer": 0},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    skipped: Counter = Counter()
    items = read_mc_jsonl(path, "de", None, skipped)
    assert [(i["id"], i["answer"]) for i in items] == [("1", 1), ("2", 1)]
    assert skipped == {"bad_choices": 1, "bad_answer": 1, "not_json": 1}


def test_accuracy_and_length_normalization() -> None:
    mc = load_template("mc_jsonl")
    items = [
        {"id": "a", "question": "x", "choices": ["ab", "abcdefgh"], "answer": 1},
        {"id": "b", "question": "y", "choices": ["ab", "abcdefgh"], "answer": 0},
    ]
    inst = build_instances(mc, items, "en")
    # summed log-likelihood prefers the short choice; per character, the long one
    result = summarize(inst, [[-2.0, -4.0], [-2.0, -4.0]])["en"]
    assert result["acc"] == 0.5 and result["acc_norm"] == 0.5 and result["n"] == 2
    result = summarize(inst, [[-2.0, -4.0], [-2.0, -40.0]])["en"]
    assert result["acc"] == 0.5 and result["acc_norm"] == 1.0


def test_scoring_a_task_end_to_end(tmp_path: Path) -> None:
    tok = TextTokenizer.from_file(tiny_tokenizer(tmp_path / "t.json"))
    model = tiny_model(tok.vocab_size)
    mc = load_template("mc_jsonl")
    items = [{"id": str(k), "question": f"the house {k}", "choices": ["small", "green", "river"],
              "answer": k % 3} for k in range(6)]  # fmt: skip
    inst = build_instances(mc, items, "en", num_fewshot=1)
    lls = score_instances(Scorer(model, batch_size=4), tok.encode_batch, inst, tok.eos_id)
    assert len(lls) == 6 and all(len(x) == 3 and all(v < 0 for v in x) for x in lls)
    # one batch or many: the same numbers
    again = score_instances(Scorer(model, batch_size=64), tok.encode_batch, inst, tok.eos_id)
    assert all(
        abs(a - b) < 1e-4
        for x, y in zip(lls, again, strict=True)
        for a, b in zip(x, y, strict=True)
    )


def test_unknown_template_is_a_recipe_error() -> None:
    with pytest.raises(RecipeError, match="neither built in"):
        load_template("sib201")


def test_task_texts_for_decontamination(shared_data: Path, tmp_path: Path) -> None:
    sib = list(task_texts(load_template("sib200"), shared_data / "sib200", ["de", "fr"]))
    assert len(sib) == 2 * 99 and sib[0][0].startswith("de:")
    assert any(len(t.split()) > 8 for t in sib[0][1])
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps(
            {"id": "a", "lang": "en", "question": "Why?", "choices": ["x", "y"], "answer": 0}
        )
        + "\n"
    )
    assert list(task_texts(load_template("mc_jsonl"), path)) == [("en:a", ["Why?", "x", "y"])]


def test_user_template_from_a_yaml_file(tmp_path: Path) -> None:
    # e.g. a local Belebele copy: passage + question, per-language prompt override
    (tmp_path / "belebele.yaml").write_text(
        'name: belebele\nformat: mc_jsonl\nprompt: "P: {passage}\\nQ: {question}\\nA:"\n'
        'prompt_by_language: {de: "T: {passage}\\nF: {question}\\nA:"}\n',
        encoding="utf-8",
    )
    template = load_template("belebele.yaml", tmp_path)
    items = [{"id": "1", "passage": "p", "question": "q", "choices": ["a", "b"], "answer": 0}]
    assert build_instances(template, items, "en")[0].context == "P: p\nQ: q\nA:"
    assert build_instances(template, items, "de")[0].context == "T: p\nF: q\nA:"
    skipped: Counter = Counter()
    assert (
        build_instances(
            template, [{"id": "2", "choices": ["a"], "answer": 0}], "en", skipped=skipped
        )
        == []
    )
    assert skipped == {"bad_item": 1}


def test_normalizations_chance_and_intervals() -> None:
    mc = load_template("mc_jsonl")
    items = [
        {"id": "a", "question": "x", "choices": ["é", "ab", "abcd"], "answer": 1},
        {"id": "b", "question": "y", "choices": ["é", "ab"], "answer": 0},
    ]
    inst = build_instances(mc, items, "en")
    lls = [[-2.0, -3.0, -6.5], [-1.9, -2.0]]
    counts = [[1, 3, 1], [2, 1]]
    got = summarize(inst, lls, counts, normalization="tokens")["en"]
    # item a: none picks 0 (miss), chars 1 (hit), bytes 0 ("é" is 2 bytes: miss), tokens 1;
    # item b: none 0 (hit), chars 1 (miss), bytes 0 (hit), tokens 0 (hit)
    assert (got["acc"], got["acc_norm"], got["acc_bytes"], got["acc_tokens"]) == (
        0.5,
        0.5,
        0.5,
        1.0,
    )
    assert got["metric"] == "acc_tokens" and got["value"] == 1.0 and got["n"] == 2
    assert got["chance"] == (1 / 3 + 1 / 2) / 2
    half = summarize(inst, lls, counts)["en"]
    assert half["metric"] == "acc" and half["ci_method"] == "analytic"
    # s^2 = 0.5 over n = 2: SE 0.5, interval 0.5 +- 1.96 * 0.5
    assert half["stderr"] == 0.5 and half["ci95"] == [0.5 - 1.959964 * 0.5, 0.5 + 1.959964 * 0.5]


def test_eu_macro_aggregate_and_missing_languages() -> None:
    from openeurollm.eval.run import TaskRun, aggregates, missing_languages

    per = {"de": {"value": 0.6, "stderr": 0.03}, "fr": {"value": 0.4, "stderr": 0.04}}
    macro = aggregates(per)["macro"]
    assert macro["value"] == 0.5 and macro["languages"] == ["de", "fr"]
    assert abs(macro["stderr"] - 0.025) < 1e-12  # sqrt(0.03^2 + 0.04^2) / 2
    pairs = {"en-de": {"value": 40.0, "stderr": 1.0}, "de-en": {"value": 50.0, "stderr": 1.0}}
    agg = aggregates(pairs, "en")
    assert agg["from_en"]["value"] == 40.0 and agg["into_en"]["value"] == 50.0
    task = TaskRun("t", "translation", Path("."), ["en", "de", "mt"], 0, 1, None)
    assert missing_languages(task, list(pairs)) == ["mt"]


def test_recipe_switches_a_task_to_the_lettered_formulation(tmp_path: Path) -> None:
    from openeurollm.eval.run import TaskRun, resolve_template

    path = tmp_path / "t.jsonl"
    item = {"id": "a", "lang": "en", "question": "Colour?", "choices": ["red", "blue"], "answer": 1}
    path.write_text(json.dumps(item) + "\n")
    task = TaskRun("t", "mc_jsonl", path, ["en"], 0, 1, None, formulation="lettered")
    template = resolve_template(task)
    per_lang, _ = load_task(template, path, ["en"])
    inst = per_lang["en"][0]
    assert inst.context == "Question: Colour?\nA. red\nB. blue\nAnswer:"
    assert inst.choices == ("A", "B") and inst.gold == 1
    cloze, _ = load_task(load_template("mc_jsonl"), path, ["en"])
    assert cloze["en"][0].choices == ("red", "blue")
