"""release: the publishable folder: HF model, documents generated from the records, membership
index, SHA256SUMS (last)."""

from __future__ import annotations

from typing import Any

from openeurollm.config import Recipe
from openeurollm.pipeline.stage import STAGES, Stage, StageContext


@STAGES.register("release")
class ReleaseStage(Stage):
    name = "release"
    after = ("train", "tokenizer", "eval", "curate", "mix", "shards", "ingest")
    version = 1

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"release": recipe.release.model_dump(mode="json"), "seq_len": recipe.train.seq_len}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from openeurollm.release.build import build_release

        return build_release(
            out=ctx.out,
            run_dir=ctx.run_dir,
            # Only the inputs: a previous release or report entry must not leak into the documents.
            entries={k: v for k, v in ctx.entries.items() if k in self.after},
            release=ctx.recipe.release,
            log=ctx.log,
        )
