"""The report's task table: score, 95% interval and its method, chance, EU macro rows and
languages without data (shown as not scored, never as 0)."""

from __future__ import annotations

from openeurollm.report.html import _task_rows


def test_task_rows_show_intervals_aggregates_and_missing_languages() -> None:
    tasks = {
        "belebele": {
            "per_language": {
                "de": {"metric": "acc", "value": 0.5, "ci95": [0.4, 0.6],
                       "ci_method": "analytic", "chance": 0.25, "n": 100},
            },
            "aggregate": {"macro": {"value": 0.5, "ci95": [0.4, 0.6], "languages": ["de"],
                                    "ci_method": "analytic over languages"}},
            "missing_languages": ["mt"],
        },
        "old": {"per_language": {"en": {"acc": 0.3, "acc_norm": 0.2, "n": 5}}},
    }  # fmt: skip
    rows = _task_rows(tasks)
    assert rows[0] == ["belebele", "de", "acc", 0.5, "0.4 – 0.6", "analytic", 0.25, 100]
    assert rows[1][:4] == ["belebele", "EU macro", None, 0.5] and rows[1][-1] == 1
    assert rows[2] == ["belebele", "mt", "no data (not scored)", None, None, None, None, 0]
    assert rows[3] == ["old", "en", "acc", 0.3, None, None, None, 5]


def test_task_curves_chart_per_task() -> None:
    from openeurollm.report.html import _task_curve_charts

    curves = {"sib/200": {"de": [[3, 0.2, 0.1, 0.3], [7, 0.4, 0.3, 0.5]],
                          "EU macro": [[3, 0.2, 0.1, 0.3], [7, None, None, None]]}}  # fmt: skip
    (chart,) = _task_curve_charts(curves)
    assert 'id="chart-task-sib-200"' in chart and "sib/200 over training" in chart
