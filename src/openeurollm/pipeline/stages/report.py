"""report: one offline HTML page from every stage's record and outputs."""

from __future__ import annotations

from typing import Any

from openeurollm.config import Recipe
from openeurollm.io.fileio import atomic_open
from openeurollm.pipeline.stage import STAGE_ORDER, STAGES, Stage, StageContext
from openeurollm.records.release import ReportRecord
from openeurollm.report.html import SECTIONS, ReportBuilder


@STAGES.register("report")
class ReportStage(Stage):
    name = "report"
    after = STAGE_ORDER[: STAGE_ORDER.index("report")]

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"report": recipe.report.model_dump(mode="json"), "run": recipe.run.name}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        title = ctx.recipe.report.title or f"openeurollm run '{ctx.recipe.run.name}'"
        sections = []
        for prefix, path in (("../", ctx.out / "report.html"), ("", ctx.run_dir / "report.html")):
            page = ReportBuilder(ctx.run_dir, ctx.entries, title, link_prefix=prefix).build()
            with atomic_open(path) as fh:
                fh.write(page)
            sections = [s for s in SECTIONS if f'id="{s}"' in page]
        ctx.log.info("report: %s (%d sections)", ctx.run_dir / "report.html", len(sections))
        return ReportRecord(path="report.html", sections=sections).dump()
