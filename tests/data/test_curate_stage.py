"""The curate stage on a small generated corpus with one planted problem of each kind."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from openeurollm.config import recipe_from_dict
from openeurollm.data.curate import STEPS
from openeurollm.data.docstore import read_folder
from openeurollm.io.fileio import read_json
from openeurollm.pipeline.runner import run_pipeline
from tests.data.helpers import clean_docs, paragraph, write_jsonl

QUESTION = (
    "A cook wants to make pasta for dinner and puts a large pot on the stove. "
    "What must boil in the pot before the pasta goes in?"
)
SECRETS = ["anna.berg@mail.example", "+49 30 1234567", "DE89 3704 0044 0532 0130 00"]


def _corpus(root: Path) -> dict[str, str]:
    rng = random.Random(11)
    en = clean_docs("en", 30)
    de = clean_docs("de", 30)
    planted: dict[str, str] = {}
    dup = en[0]["text"]
    de.append({"text": dup, "lang": "en", "url": "https://mirror.example/copy"})  # other shard
    planted["exact"] = dup
    near = en[1]["text"].replace(".", " !", 1)  # punctuation-only change: same normalized hash
    de.append({"text": near, "lang": "en", "url": "https://mirror.example/near"})
    ws = en[2]["text"].split()
    ws[len(ws) // 2] = "zebra"
    de.append({"text": " ".join(ws), "lang": "en", "url": "https://mirror.example/near2"})
    planted["near"] = " ".join(ws)
    pii = paragraph("en", rng) + f" Contact {SECRETS[0]} or call {SECRETS[1]}; IBAN {SECRETS[2]}."
    en.append({"text": pii, "lang": "en", "url": "https://shop.en.example/contact"})
    planted["pii"] = pii
    french = paragraph("fr", rng)
    en.append({"text": french, "lang": "de", "url": "https://wrong.example/fr"})
    planted["relabel"] = french
    russian = (
        "Вчера вечером мы долго гуляли по парку и разговаривали о погоде. "
        "Потом мы пошли домой, приготовили ужин и смотрели старый фильм. " * 3
    )
    en.append({"text": russian, "lang": "de", "url": "https://ru.example/a"})
    spam = "Buy cheap pills now! Best price! Click here! " * 20
    en.append({"text": spam, "lang": "en", "url": "https://spam.example/x"})
    opted = paragraph("en", rng)
    en.append({"text": opted, "lang": "en", "url": "https://blog.reserved.example/post"})
    contaminated = paragraph("en", rng) + " " + QUESTION
    de.append({"text": contaminated, "lang": "en", "url": "https://quiz.example/1"})
    planted.update(russian=russian, spam=spam, optout=opted, contaminated=contaminated)
    write_jsonl(root / "corpus" / "en.jsonl", en)
    write_jsonl(root / "corpus" / "de.jsonl", de)
    (root / "optout.txt").write_text("reserved.example\n")
    (root / "mc.jsonl").write_text(
        json.dumps(
            {
                "id": "q1",
                "lang": "en",
                "question": QUESTION,
                "choices": ["water", "milk"],
                "answer": 0,
            }
        )
        + "\n"
    )
    return planted


def _recipe(root: Path, name: str, workers: int = 1):
    return recipe_from_dict(
        {
            "run": {"root": str(root / "runs"), "name": name},
            "executor": {"workers": workers},
            "ingest": {"inputs": [{"path": "corpus/*.jsonl", "license": "CC0-1.0"}]},
            "curate": {
                "languages": ["en", "de", "fr"],
                "optout": {"domain_lists": ["optout.txt"]},
            },
            "eval": {"tasks": [{"name": "mc", "path": "mc.jsonl"}]},
        },
        base_dir=root,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("curate")
    planted = _corpus(root)
    recipe = _recipe(root, "a")
    manifest = run_pipeline(recipe, until="curate")
    out = recipe.run_dir / "curate"
    docs = list(read_folder(out / "docs"))
    return {
        "root": root,
        "planted": planted,
        "record": manifest.entry("curate")["record"],
        "docs": docs,
        "out": out,
        "recipe": recipe,
        "manifest": manifest,
    }


def test_counts_reconcile(run) -> None:
    rec = run["record"]
    assert rec["docs_in"] == 69
    assert rec["docs_in"] == rec["docs_kept"] + rec["docs_dropped"] + rec["quarantined"]
    assert rec["docs_kept"] == len(run["docs"])
    steps = rec["steps"]
    assert sum(c["docs_in"] for c in steps["langid"].values()) == rec["docs_in"]
    order = [name for name in STEPS if name in steps]  # records store keys sorted, not in order
    assert sorted(order) == sorted(steps)
    for a, b in itertools.pairwise(order):
        assert sum(c["kept"] for c in steps[a].values()) == sum(
            c["docs_in"] for c in steps[b].values()
        ), (a, b)


def test_each_planted_problem_handled(run) -> None:
    rec, planted = run["record"], run["planted"]
    texts = [d.text for d in run["docs"]]
    joined = "\n".join(texts)
    assert texts.count(planted["exact"]) == 1
    assert rec["dedup"]["exact"]["removed"] == 2  # the copy and the punctuation variant
    assert planted["near"] not in texts and rec["dedup"]["near"]["removed"] == 1
    for secret in SECRETS:
        assert secret not in joined
    assert rec["pii"]["en"] == {"email": 1, "iban": 1, "phone": 1}
    relabelled = [d for d in run["docs"] if d.text == planted["relabel"]]
    assert len(relabelled) == 1 and relabelled[0].lang == "fr"
    assert relabelled[0].meta["lang_label"] == "de" and rec["relabelled"] == {"de->fr": 1}
    for key in ("russian", "spam", "optout", "contaminated"):
        assert planted[key] not in texts, key
    assert rec["dropped_by_reason"]["lang_not_target"] == 1
    assert rec["optout"]["blog.reserved.example"] == {
        "docs": 1,
        "bytes": len(planted["optout"].encode("utf-8")),
        "opted_out_docs": 1,
        "rules": {"domain_list:optout.txt": 1},
    }
    assert rec["optout"]["site0.en.example"]["opted_out_docs"] == 0
    assert rec["decontam"]["matches"] == {"mc": {"q1": 1}}
    assert sum(rec["kept_per_language"].values()) == rec["docs_kept"]
    assert rec["kept_per_language"]["de"] == 30


def test_dropped_samples_per_reason_with_pii_masked(run) -> None:
    dropped = run["out"] / "dropped"
    reasons = {p.stem for p in dropped.glob("*.jsonl")}
    assert {
        "lang_not_target",
        "optout_domain_list",
        "decontam_ngram",
        "dedup_exact",
        "dedup_near",
    } <= reasons
    for path in dropped.glob("*.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert 1 <= len(lines) <= 20
        assert all(json.loads(line)["reason"] == path.stem for line in lines)
    sample = json.loads((dropped / "decontam_ngram.jsonl").read_text().splitlines()[0])
    assert sample["item"] == "q1" and sample["task"] == "mc"


def test_rerun_reuses_and_workers_do_not_change_output(run) -> None:
    again = run_pipeline(run["recipe"], until="curate")
    assert (
        again.entry("curate")["output_digest"] == run["manifest"].entry("curate")["output_digest"]
    )
    other = run_pipeline(_recipe(run["root"], "b", workers=2), until="curate")
    assert other.entry("curate")["files"] == run["manifest"].entry("curate")["files"]
    key = read_json(run["recipe"].run_dir / "manifest.json")
    assert key["stages"]["curate"]["status"] == "done"


def test_kept_documents_carry_their_cluster_size(run) -> None:
    rec, docs = run["record"], run["docs"]
    sizes = {d.text: d.meta["dup_cluster_size"] for d in docs}
    # three planted pairs (an exact copy, a punctuation variant, a one-word edit)
    assert sizes[run["planted"]["exact"]] == 2
    assert sorted(sizes.values()).count(2) == 3 and max(sizes.values()) == 2
    assert sum(sizes.values()) == rec["dedup"]["docs"]  # every survivor of pass 1 counted once
    assert rec["dedup"]["scope"] == "global"


def test_filter_drop_rates_per_language(run) -> None:
    rates = run["record"]["filter_drop_rates"]
    assert set(rates) == {"gopher_quality", "gopher_repetition", "fineweb_lines"}
    first = rates["gopher_quality"]
    # every document that reached the filters step was judged by the first filter
    reached = run["record"]["steps"]["filters"]
    assert sum(c["judged"] for c in first.values()) == sum(c["docs_in"] for c in reached.values())
    assert first["en"]["dropped"] >= 1  # the planted spam
    assert first["en"]["rate"] == round(first["en"]["dropped"] / first["en"]["judged"], 4)
