"""The eval stage on a small run folder: results.json and a per-language record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import save_file

from openeurollm.config import recipe_from_dict
from openeurollm.data.docstore import write_documents
from openeurollm.data.document import Document
from openeurollm.io.fileio import write_json
from openeurollm.pipeline.stage import STAGES, StageContext

from .tiny import synthetic_texts, tiny_model, tiny_tokenizer


@pytest.mark.filterwarnings("ignore:torch.distributed is disabled")
def test_eval_stage_writes_results_and_record(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"text": "x", "lang": "en"}\n')
    items = [
        {"id": f"{lang}{k}", "lang": lang, "question": f"the house {k}",
         "choices": ["small", "green"], "answer": k % 2}
        for lang in ("en", "de") for k in range(5)
    ]  # fmt: skip
    (tmp_path / "mc.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    recipe = recipe_from_dict(
        {
            "run": {"root": str(tmp_path / "runs"), "name": "t"},
            "ingest": {"inputs": [{"path": "corpus.jsonl"}]},
            "curate": {"languages": ["en", "de", "fr"]},
            "train": {"seq_len": 32},
            "eval": {
                "tasks": [{"name": "mc", "path": "mc.jsonl", "num_fewshot": 1}],
                "checkpoint_tasks": True,
            },
        },
        tmp_path,
    )
    run = recipe.run_dir
    tok_path = tiny_tokenizer(run / "tokenizer" / "tokenizer.json")
    model = tiny_model(400)
    (run / "train").mkdir(parents=True)
    save_file(model.state_dict(), str(run / "train" / "model.safetensors"))
    write_json(run / "train" / "model_config.json", model.args.to_dict())
    for lang in ("en", "de"):
        docs = [Document.new(t, lang=lang) for t in synthetic_texts(lang, 3, seed=9)]
        write_documents(run / "mix" / "heldout" / f"{lang}.parquet", docs)
    assert tok_path.exists()
    # an earlier checkpoint (other weights) in the train stage's layout
    import torch.distributed.checkpoint as dcp

    step3 = run / "train" / "checkpoints" / "step-3"
    dcp.save({"model": tiny_model(400, seed=11).state_dict()}, checkpoint_id=str(step3))
    write_json(step3 / "trainer.json", {"step": 3})

    stage = STAGES.get("eval")()
    ctx = StageContext(
        recipe=recipe, run_dir=run, out=run / "eval", key="k", resume=False,
        records={"mix": {"languages": ["de", "en", "fr"]}, "train": {"steps": 7}},
    )  # fmt: skip
    record = stage.run(ctx)
    results = json.loads((run / "eval" / "results.json").read_text())
    assert sorted(results["bpb"]) == ["de", "en"]  # fr has no held-out text
    assert record["bpb"] == {k: round(v["bpb"], 6) for k, v in results["bpb"].items()}
    assert all(0 < v < 20 for v in record["bpb"].values())
    mc = record["tasks"]["mc"]
    assert mc["source"] == "openeurollm" and sorted(mc["per_language"]) == ["de", "en"]
    assert all(s["n"] == 5 for s in mc["per_language"].values())
    for s in mc["per_language"].values():  # score, its interval and the chance level
        assert s["metric"] == "acc" and s["value"] == s["acc"] and s["chance"] == 0.5
        assert s["ci_method"] == "analytic" and s["ci95"][0] <= s["value"] <= s["ci95"][1]
    assert mc["aggregate"]["macro"]["languages"] == ["de", "en"]
    assert mc["missing_languages"] == ["fr"]  # asked for, no data: reported, not scored
    # the learning curve: the checkpoint at step 3, then the final weights at the final step
    curves = results["checkpoints"]
    assert sorted(curves) == ["de", "en"]
    for lang, points in curves.items():
        assert [p[0] for p in points] == [3, 7]
        assert points[1][1] == results["bpb"][lang]["bpb"] != points[0][1]
    assert record["checkpoint_steps"] == [3, 7]
    # every task at every checkpoint: [step, value, ci low, ci high], final = the task result
    task_curves = results["checkpoint_tasks"]["mc"]
    assert sorted(task_curves) == ["EU macro", "de", "en"]
    for lang in ("de", "en"):
        (s3, v3, lo3, hi3), final = task_curves[lang]
        assert s3 == 3 and lo3 <= v3 <= hi3
        assert final[:2] == [7, results["tasks"]["mc"]["per_language"][lang]["value"]]
