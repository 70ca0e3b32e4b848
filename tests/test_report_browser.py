"""report.html in a real headless Chromium: every section and plot present, no errors, offline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from openeurollm.report.html import SECTIONS

from .conftest import REPO, SmallRun

CHARTS = (
    "chart-funnel",
    "chart-mix",
    "chart-fertility",
    "chart-loss",
    "chart-lr",
    "chart-throughput",
    "chart-bpb",
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "Chromium not installed (scripts/system-deps.sh installs Debian's chromium as root)"
    )


@pytest.mark.slow
def test_report_renders_in_chromium(small_run: SmallRun) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    page_path = small_run.run_dir / "report.html"
    errors: list[str] = []
    external: list[str] = []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    external.append(r.url) if not r.url.startswith(("file:", "data:")) else None
                ),
            )
            page.goto(page_path.as_uri())
            for section in SECTIONS:
                assert page.locator(f"section#{section}").count() == 1, section
                assert page.locator(f"section#{section} h2").inner_text().strip()
            for chart in CHARTS:
                svg = page.locator(f"svg#{chart}")
                assert svg.count() == 1, f"{chart} missing"
                assert svg.locator("rect, path").count() > 0, f"{chart} is empty"
            assert page.locator("#table-compliance tbody tr").count() >= 8
            assert "not recorded" not in page.locator("#overview").inner_text()
            shots = REPO / "runs" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            shot = shots / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert errors == [], errors
    assert external == [], f"report must work offline, but it requested {external}"


def test_report_marks_missing_records(tmp_path: Path) -> None:
    from openeurollm.report.html import ReportBuilder

    page = ReportBuilder(tmp_path, {}, "empty run").build()
    for section in SECTIONS:
        assert f'id="{section}"' in page
    assert "not recorded" in page and "no data recorded" in page
    assert "Parity: not recorded" in page


def test_report_escapes_values_from_the_records(tmp_path: Path) -> None:
    """Attack: drop reasons, languages, strategy and package names holding HTML and script."""
    from openeurollm.report.html import ReportBuilder

    evil = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    entries = {
        "curate": {"record": {"dropped_by_reason": {evil: 3}, "kept_per_language": {evil: 1},
                              "pii_total": {evil: 1}}},
        "mix": {"record": {"languages": [evil], "strategy": evil, "bytes_before": {evil: 5}}},
        "train": {"record": {"flavor": evil}, "versions": {evil: evil}, "status": evil},
    }  # fmt: skip
    page = ReportBuilder(tmp_path, entries, evil).build()
    assert "<img" not in page and "<script" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&amp;lt;" not in page  # escaped once, not twice
