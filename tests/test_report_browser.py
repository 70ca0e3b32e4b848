"""report.html in a real headless Chromium: every section present, every chart drawn with one
point or bar per data point (eval curves included) and visible in the screenshot's pixels,
no errors, offline. Under CI=true a missing browser fails the test instead of skipping it."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest

from openeurollm.report.html import SECTIONS

from .conftest import REPO, SmallRun

LINE_CHARTS = ("chart-loss", "chart-lr", "chart-throughput", "chart-eval-curves")
BAR_CHARTS = ("chart-funnel", "chart-mix", "chart-fertility", "chart-bpb")
FIRST_SERIES_RGB = (0x25, 0x63, 0xEB)  # report/svg.py PALETTE[0]: every chart's first series
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What each chart drew, measured in the browser: bars (rects with a <title>; legend squares
# have none) with their rendered size, and line paths with their point count and length.
DRAWN_JS = """id => {
  const svg = document.getElementById(id);
  const bars = [...svg.querySelectorAll('rect')].filter(r => r.querySelector('title'));
  const box = svg.getBoundingClientRect();
  return {
    rows: [...svg.querySelectorAll('text.tick[text-anchor=end]')].length,
    bars: bars.map(r => { const b = r.getBBox(); return [b.width, b.height]; }),
    lines: [...svg.querySelectorAll('path')].map(p => [
      (p.getAttribute('d').match(/[ML]/g) || []).length, p.getTotalLength()]),
    box: [box.x + window.scrollX, box.y + window.scrollY, box.width, box.height],
  };
}"""
# Pixels of the screenshot file itself, decoded by the browser: per chart box, how many are
# not background and how many have the first series' colour.
PIXELS_JS = """async ([src, boxes, rgb]) => {
  const img = new Image(); img.src = src; await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width; canvas.height = img.height;
  const g = canvas.getContext('2d'); g.drawImage(img, 0, 0);
  const out = {};
  for (const [id, [x, y, w, h]] of Object.entries(boxes)) {
    const d = g.getImageData(Math.round(x), Math.round(y), Math.round(w), Math.round(h)).data;
    let ink = 0, series = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] < 230 || d[i + 1] < 230 || d[i + 2] < 230) ink++;
      if (Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]) < 60) series++;
    }
    out[id] = [ink, series];
  }
  return out;
}"""


def _prerequisite_missing(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where a skipped browser test proves nothing."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run, not skip)")
    pytest.skip(reason)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    _prerequisite_missing(
        "Chromium not installed (scripts/system-deps.sh installs Debian's chromium as root)"
    )
    raise AssertionError("unreachable")


def _expected_points(run_dir: Path) -> dict[str, list[int]]:
    """Data points per line of each line chart, from the files the report reads."""
    metrics = [
        json.loads(line)
        for line in (run_dir / "train" / "metrics.jsonl").read_text().splitlines()
        if line.strip()
    ]

    def count(key: str) -> list[int]:
        return [sum(1 for m in metrics if m.get(key) is not None and "step" in m)]

    results = json.loads((run_dir / "eval" / "results.json").read_text())
    curves = results.get("checkpoints") or {}
    return {
        "chart-loss": count("loss"),
        "chart-lr": count("lr"),
        "chart-throughput": count("tokens_per_s"),
        "chart-eval-curves": [len(curves[lang]) for lang in sorted(curves)],
    }


def _expected_rows(small_run: SmallRun) -> dict[str, int]:
    records = small_run.manifest.records()  # type: ignore[attr-defined]
    results = json.loads((small_run.run_dir / "eval" / "results.json").read_text())
    fertility = json.loads((small_run.run_dir / "tokenizer" / "fertility.json").read_text())
    per_lang = fertility.get("languages", fertility.get("per_language", {}))
    return {
        "chart-funnel": len(records["curate"]["kept_per_language"]),
        "chart-mix": len(records["mix"]["languages"]),
        "chart-fertility": len(per_lang),
        "chart-bpb": len(results["bpb"]),
    }


def _check_drawn(drawn: dict, points: dict[str, list[int]], rows: dict[str, int]) -> None:
    for chart in LINE_CHARTS:
        lines = drawn[chart]["lines"]
        assert [n for n, _ in lines] == points[chart], f"{chart}: points drawn != data points"
        assert all(length > 50 for _, length in lines), f"{chart}: a line of no length"
    for chart in BAR_CHARTS:
        bars, n_rows = drawn[chart]["bars"], drawn[chart]["rows"]
        assert n_rows >= rows[chart] > 0, f"{chart}: {n_rows} rows for {rows[chart]} languages"
        assert bars and len(bars) % n_rows == 0, f"{chart}: not one bar per row and series"
        assert all(h > 0 for _, h in bars), f"{chart}: a bar of no height"
        assert sum(1 for w, _ in bars if w > 0) >= n_rows, f"{chart}: bars of no width"


@pytest.mark.slow
def test_report_renders_in_chromium(small_run: SmallRun) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _prerequisite_missing("playwright not installed (the dev extra)")
    page_path = small_run.run_dir / "report.html"
    errors: list[str] = []
    external: list[str] = []
    with sync_playwright() as pw:
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
            drawn = {}
            for chart in LINE_CHARTS + BAR_CHARTS:
                assert page.locator(f"svg#{chart}").count() == 1, f"{chart} missing or empty"
                drawn[chart] = page.evaluate(DRAWN_JS, chart)
            _check_drawn(drawn, _expected_points(small_run.run_dir), _expected_rows(small_run))
            assert page.locator("#table-compliance tbody tr").count() >= 8
            assert "not recorded" not in page.locator("#overview").inner_text()
            shots = REPO / "runs" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            shot = shots / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            png = "data:image/png;base64," + base64.b64encode(shot.read_bytes()).decode()
            boxes = {chart: d["box"] for chart, d in drawn.items()}
            pixels = browser.new_page().evaluate(PIXELS_JS, [png, boxes, FIRST_SERIES_RGB])
        finally:
            browser.close()
    for chart, (ink, series) in pixels.items():
        # a 10x10 legend square is 100 pixels of the colour; data must draw clearly more
        assert series > 200 and ink >= series, f"{chart} is blank in the screenshot"
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
    # Whole records (the report reads them through their typed schemas), poisoned.
    assets = Path(__file__).parent / "release" / "assets" / "entries.json"
    full = json.loads(assets.read_text(encoding="utf-8"))
    curate, mix, train = full["curate"]["record"], full["mix"]["record"], full["train"]["record"]
    curate |= {
        "dropped_by_reason": {evil: 3},
        "kept_per_language": {evil: 1},
        "pii_total": {evil: 1},
    }
    mix |= {"languages": [evil], "strategy": evil, "bytes_before": {evil: 5}}
    train |= {"flavor": evil}
    entries = {
        "curate": {"record": curate},
        "mix": {"record": mix},
        "train": {"record": train, "versions": {evil: evil}, "status": evil},
    }  # fmt: skip
    page = ReportBuilder(tmp_path, entries, evil).build()
    assert "<img" not in page and "<script" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&amp;lt;" not in page  # escaped once, not twice


def test_missing_browser_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="Chromium not installed"):
        _chromium()
