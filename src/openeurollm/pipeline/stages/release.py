"""release: the publishable folder: HF model, documents generated from the records, membership
index, SHA256SUMS (last)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openeurollm.config import Recipe
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.records.release import ReleaseRecord


@STAGES.register("release")
class ReleaseStage(Stage):
    name = "release"
    after = ("train", "tokenizer", "eval", "curate", "mix", "shards", "ingest")
    version = 1

    def config(self, recipe: Recipe) -> dict[str, Any]:
        cfg = recipe.release.model_dump(mode="json")
        for key in ("previous_summary", "research_paper"):
            cfg[key] = cfg[key] is not None  # the file enters the key through its digest
        return {"release": cfg, "seq_len": recipe.train.seq_len}

    def external_inputs(self, recipe: Recipe) -> list[Path]:
        c = recipe.release
        files = [recipe.resolve(p) for p in (c.previous_summary, c.research_paper) if p]
        if c.open_science:  # the evaluation data ships with the release
            from openeurollm.release.build import eval_task_files

            files += eval_task_files(recipe)
        return files

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from openeurollm.release.build import build_release

        return ReleaseRecord.model_validate(
            build_release(
                out=ctx.out,
                run_dir=ctx.run_dir,
                # Only the inputs: a previous release or report entry must not leak into the documents.
                entries={k: v for k, v in ctx.entries.items() if k in self.after},
                release=ctx.recipe.release,
                log=ctx.log,
                recipe=ctx.recipe,
            )
        ).dump()
