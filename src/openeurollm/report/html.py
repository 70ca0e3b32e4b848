"""report.html: one offline page (inline CSS and SVG) built from the manifest and stage files.

Every number on the page comes from a stage record or a stage output file; what a run did
not record is shown as "not recorded".
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from openeurollm.records import RECORDS, load_record
from openeurollm.report.svg import bar_chart, line_chart

NOT_RECORDED = "not recorded"
# The page's sections, in order (their ids are the anchors and what tests look for).
SECTIONS = (
    "overview",
    "funnel",
    "mix",
    "tokenizer",
    "training",
    "evaluation",
    "compliance",
    "provenance",
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
header{background:#0b3d91;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}nav{background:#fff;border-bottom:1px solid #e5e7eb;padding:8px 28px;position:sticky;top:0}
nav a{margin-right:14px;color:#0b3d91;text-decoration:none;font-weight:600}
main{max-width:1180px;margin:0 auto;padding:8px 28px 40px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin:18px 0;padding:14px 20px}
h2{font-size:18px;margin:4px 0 10px;color:#0b3d91}h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border-bottom:1px solid #eef0f3;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f1f5f9}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #e5e7eb;border-radius:6px;padding:8px 12px;min-width:130px}
.card b{display:block;font-size:18px;color:#0b3d91}.grid2{display:flex;flex-wrap:wrap;gap:16px}
svg.chart{background:#fff}svg .title{font-weight:600;font-size:13px}svg .tick,svg .value{font-size:10px;fill:#475569}
svg .label{font-size:11px;fill:#334155}svg .grid{stroke:#eef0f3}
.ok{color:#15803d;font-weight:600}.missing{color:#b91c1c;font-weight:600}.empty{color:#6b7280;font-style:italic}
code{background:#f1f5f9;padding:1px 4px;border-radius:3px}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _parity_summary(fert: dict[str, Any]) -> str:
    """Worst and best language against English, the mean, and their ratio (fertility.json)."""
    summary = fert.get("summary") or {}
    worst, best = summary.get("worst"), summary.get("best")
    if not worst or not best:
        return '<p id="tokenizer-parity">Parity: not recorded.</p>'
    kind = {
        "aligned_sentences": f"on {_num(fert.get('aligned_sentences'))} aligned sentences",
        "tokens_per_char_vs_en": "proxy: tokens per character against English, no aligned text",
    }.get(fert.get("parity_kind", ""), _esc(fert.get("parity_kind", "")))
    return (
        f'<p id="tokenizer-parity">Parity against English ({kind}): worst '
        f"{_esc(worst['lang'])} {worst['parity']:.3f}, best {_esc(best['lang'])} "
        f"{best['parity']:.3f}, mean {summary['mean']:.3f}, worst/best ratio "
        f"{summary['worst_best_ratio']:.3f}.</p>"
    )


def _num(value: Any) -> str:
    if value is None:
        return NOT_RECORDED
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return _esc(value)


def _table(headers: list[str], rows: list[list[Any]], table_id: str = "") -> str:
    if not rows:
        return f'<p class="empty">{NOT_RECORDED}</p>'
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_num(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


TASK_COLUMNS = ["task", "language", "metric", "score", "95% CI", "CI method", "chance", "n"]


def _interval(ci: Any) -> str | None:
    return f"{ci[0]:.4g} – {ci[1]:.4g}" if isinstance(ci, list) and len(ci) == 2 else None


def _task_rows(tasks: dict[str, Any]) -> list[list[Any]]:
    """One row per task and language (older results: acc as the score), then the task's EU
    aggregates, then the languages it had no data for."""
    rows: list[list[Any]] = []
    for task, body in sorted(tasks.items()):
        for lang, s in sorted(body.get("per_language", {}).items()):
            rows.append([task, lang, s.get("metric", "acc"), s.get("value", s.get("acc")),
                         _interval(s.get("ci95")), s.get("ci_method"), s.get("chance"),
                         s.get("n")])  # fmt: skip
        for group, agg in sorted((body.get("aggregate") or {}).items()):
            if agg:
                label = "EU macro" if group == "macro" else f"EU macro, {group.replace('_', ' ')}"
                rows.append([task, label, None, agg.get("value"), _interval(agg.get("ci95")),
                             agg.get("ci_method"), None, len(agg.get("languages", []))])  # fmt: skip
        for lang in body.get("missing_languages") or []:
            rows.append([task, lang, "no data (not scored)", None, None, None, None, 0])
    return rows


def _task_curve_charts(curves: dict[str, dict[str, list[list[Any]]]]) -> list[str]:
    """One chart per task: its score per language and EU aggregate over training steps
    (the 95% intervals of each point are in results.json, checkpoint_tasks)."""
    charts = []
    for task, per_key in sorted(curves.items()):
        series = {
            key: [(float(p[0]), float(p[1])) for p in points if p[1] is not None]
            for key, points in sorted(per_key.items())
        }
        slug = re.sub(r"[^A-Za-z0-9_-]", "-", task)
        charts.append(
            line_chart(series, f"{task} over training", "step", "score", f"chart-task-{slug}")
        )
    return charts


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _read_json(path: Path) -> Any:
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class ReportBuilder:
    def __init__(
        self, run_dir: Path, entries: dict[str, dict[str, Any]], title: str, link_prefix: str = ""
    ) -> None:
        self.run_dir = run_dir
        self.entries = entries
        self.title = title
        self.link_prefix = link_prefix  # from the page's folder to the run directory

    def record(self, stage: str) -> dict[str, Any]:
        record = self.entries.get(stage, {}).get("record", {}) or {}
        if record and stage in RECORDS:
            load_record(stage, record)  # the page reads fields by the stage's schema
        return record

    # ------------------------------------------------------------ sections

    def overview(self) -> str:
        cards = []

        def card(label: str, value: Any) -> None:
            cards.append(f'<div class="card"><b>{_num(value)}</b>{_esc(label)}</div>')

        card("documents ingested", self.record("ingest").get("docs"))
        card("documents kept", self.record("curate").get("docs_kept"))
        card("languages", len(self.record("mix").get("languages", [])) or None)
        card("training tokens (shards)", self.record("shards").get("total_tokens"))
        train = self.record("train")
        card("parameters", train.get("params"))
        card("tokens seen", train.get("tokens_seen"))
        card("final training loss", train.get("final_loss"))
        return f'<section id="overview"><h2>Overview</h2><div class="cards">{"".join(cards)}</div></section>'

    def funnel(self) -> str:
        ingest, curate = self.record("ingest"), self.record("curate")
        # Per language and reason, summed over the curate steps (a document is dropped once).
        dropped: dict[str, dict[str, int]] = {}
        for step in curate.get("steps", {}).values():
            for lang, counts in step.items():
                for reason, n in counts.get("dropped", {}).items():
                    dropped.setdefault(lang, {}).setdefault(reason, 0)
                    dropped[lang][reason] += n
        kept: dict[str, int] = curate.get("kept_per_language", {})
        langs = sorted(set(kept) | set(dropped))
        reasons = sorted({r for v in dropped.values() for r in v})
        into = {lang: kept.get(lang, 0) + sum(dropped.get(lang, {}).values()) for lang in langs}
        rows = [
            [
                lang,
                into[lang],
                kept.get(lang, 0),
                *[dropped.get(lang, {}).get(r, 0) for r in reasons],
            ]
            for lang in langs
        ]
        chart = bar_chart(
            langs,
            {"in": [into[lang] for lang in langs], "kept": [kept.get(lang, 0) for lang in langs]},
            "Documents per language: into curation and kept",
            "chart-funnel",
        )
        drop_rows = [
            [r, n]
            for r, n in sorted(curate.get("dropped_by_reason", {}).items(), key=lambda kv: -kv[1])
        ]
        pii = curate.get("pii_total", {})
        return (
            '<section id="funnel"><h2>Data funnel</h2>'
            f"<p>Ingested {_num(ingest.get('docs'))} documents from {_num(ingest.get('files'))} files; "
            f"{_num(curate.get('quarantined'))} records quarantined as unreadable. "
            f"Curation kept {_num(curate.get('docs_kept'))} of {_num(curate.get('docs_in'))}; "
            f"personal data masked: {_esc(', '.join(f'{k} {v}' for k, v in sorted(pii.items())) or 'none found')}; "
            f"domains opted out of text-and-data mining: {_num(len(curate.get('optout_domains_opted_out', [])))}.</p>"
            f'<div class="grid2">{chart}<div><h3>Dropped, by reason</h3>{_table(["reason", "documents"], drop_rows, "table-drops")}</div></div>'
            f"<h3>Per language</h3>{_table(['language', 'in', 'kept', *reasons], rows, 'table-funnel')}</section>"
        )

    def mixing(self) -> str:
        mix = self.record("mix")
        langs = mix.get("languages", [])
        before = mix.get("bytes_before", {})
        after = mix.get("bytes_after", {})
        total_b = sum(before.values()) or 1
        total_a = sum(after.values()) or 1
        chart = bar_chart(
            langs,
            {
                "before mixing (%)": [100 * before.get(lang, 0) / total_b for lang in langs],
                "after mixing (%)": [100 * after.get(lang, 0) / total_a for lang in langs],
            },
            f"Language distribution by bytes ({mix.get('strategy', NOT_RECORDED)})",  # chart escapes
            "chart-mix",
        )
        rows = [
            [lang, before.get(lang), after.get(lang), mix.get("epochs", {}).get(lang)]
            for lang in langs
        ]
        return (
            '<section id="mix"><h2>Language mix</h2>'
            f'<div class="grid2">{chart}{_table(["language", "bytes before", "bytes after", "epochs"], rows, "table-mix")}</div></section>'
        )

    def tokenizer(self) -> str:
        fert = _read_json(self.run_dir / "tokenizer" / "fertility.json") or {}
        per_lang: dict[str, Any] = fert.get("languages", fert.get("per_language", {}))
        langs = sorted(per_lang)
        key = next(
            (k for k in ("tokens_per_word", "fertility") if langs and k in per_lang[langs[0]]),
            "tokens_per_word",
        )
        chart = bar_chart(
            langs,
            {"tokens per word": [float(per_lang[lang].get(key) or 0) for lang in langs]},
            "Tokenizer fertility",
            "chart-fertility",
        )
        cols = sorted(
            {c for v in per_lang.values() for c in v if isinstance(v.get(c), int | float)}
        )
        rows = [[lang, *[per_lang[lang].get(c) for c in cols]] for lang in langs]
        rec = self.record("tokenizer")
        return (
            '<section id="tokenizer"><h2>Tokenizer</h2>'
            f"<p>Vocabulary {_num(rec.get('vocab_size'))}.</p>"
            f"{_parity_summary(fert)}"
            f'<div class="grid2">{chart}{_table(["language", *cols], rows, "table-fertility")}</div></section>'
        )

    def training(self) -> str:
        metrics = _read_jsonl(self.run_dir / "train" / "metrics.jsonl")
        train = self.record("train")

        def curve(key: str) -> list[tuple[float, float]]:
            return [
                (float(m["step"]), float(m[key]))
                for m in metrics
                if m.get(key) is not None and "step" in m
            ]

        charts = [
            line_chart({"loss": curve("loss")}, "Training loss", "step", "loss", "chart-loss"),
            line_chart({"lr": curve("lr")}, "Learning rate", "step", "lr", "chart-lr"),
            line_chart(
                {"tokens/s": curve("tokens_per_s")},
                "Throughput",
                "step",
                "tokens/s",
                "chart-throughput",
            ),
        ]
        facts = [
            [k, train.get(k)]
            for k in (
                "flavor",
                "params",
                "steps",
                "tokens_seen",
                "first_loss",
                "final_loss",
                "total_flops",
                "device_hours",
                "energy_kwh",
                "world_size",
            )
        ]
        return (
            f'<section id="training"><h2>Training</h2><div class="grid2">{"".join(charts)}</div>'
            f"{_table(['quantity', 'value'], facts, 'table-train')}</section>"
        )

    def evaluation(self) -> str:
        results = _read_json(self.run_dir / "eval" / "results.json") or {}
        bpb = results.get("bpb", {})
        per_lang_bpb = {lang: v.get("bpb") if isinstance(v, dict) else v for lang, v in bpb.items()}
        langs = sorted(per_lang_bpb)
        chart = bar_chart(
            langs,
            {"bits per byte": [float(per_lang_bpb[lang] or 0) for lang in langs]},
            "Held-out bits per byte (lower is better)",
            "chart-bpb",
        )
        task_rows = _task_rows(results.get("tasks", {}))
        curves = results.get("checkpoints", {})
        curve_chart = ""
        if curves:
            series = {
                lang: [(float(s), float(v)) for s, v in pts] for lang, pts in sorted(curves.items())
            }
            curve_chart = line_chart(
                series, "Bits per byte over training", "step", "bpb", "chart-eval-curves"
            )
        task_charts = "".join(_task_curve_charts(results.get("checkpoint_tasks", {})))
        return (
            f'<section id="evaluation"><h2>Evaluation</h2><div class="grid2">{chart}{curve_chart}{task_charts}</div>'
            f"<h3>Tasks</h3><p>Score per task and language with its 95% confidence interval "
            f"(method stated per row) and the chance level; the EU rows are macro means over "
            f"languages.</p>{_table(TASK_COLUMNS, task_rows, 'table-tasks')}</section>"
        )

    def compliance(self) -> str:
        release = self.run_dir / "release"
        docs = [
            ("Model card", "README.md"),
            ("Datasheet for the training data", "datasheet.md"),
            ("Croissant dataset metadata", "croissant.json"),
            (
                "Public summary of training content (AI Act art. 53(1)(d))",
                "training_content_summary.md",
            ),
            ("Technical documentation (AI Act Annex XI)", "technical_documentation.md"),
            ("Information for downstream providers (Annex XII)", "downstream_information.md"),
            ("Copyright policy (AI Act art. 53(1)(c))", "copyright_policy.md"),
            ("Model Openness Framework", "model_openness.yaml"),
            ("Membership index (ribbon filter)", "membership.filter"),
            ("Checksums", "SHA256SUMS"),
        ]
        rows = []
        for label, name in docs:
            present = (release / name).exists()
            status = (
                '<span class="ok">present</span>'
                if present
                else '<span class="missing">missing</span>'
            )
            link = (
                f'<a href="{self.link_prefix}release/{_esc(name)}">{_esc(name)}</a>'
                if present
                else _esc(name)
            )
            rows.append(f"<tr><td>{_esc(label)}</td><td>{link}</td><td>{status}</td></tr>")
        return (
            '<section id="compliance"><h2>Compliance checklist</h2>'
            '<table id="table-compliance"><thead><tr><th>document</th><th>file</th><th>status</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></section>"
        )

    def provenance(self) -> str:
        rows = []
        for stage, entry in self.entries.items():
            rows.append(
                [
                    stage,
                    entry.get("status"),
                    entry.get("seconds"),
                    entry.get("finished_at"),
                    (entry.get("key") or "")[:12],
                    (entry.get("output_digest") or "")[:12],
                ]
            )
        versions: dict[str, str] = {}
        for entry in self.entries.values():
            versions.update(entry.get("versions", {}))
        vrows = [[k, v] for k, v in sorted(versions.items())]
        return (
            '<section id="provenance"><h2>Provenance</h2>'
            f"{_table(['stage', 'status', 'seconds', 'finished', 'config+input key', 'output digest'], rows, 'table-stages')}"
            f"<h3>Software</h3>{_table(['package', 'version'], vrows, 'table-versions')}</section>"
        )

    def build(self) -> str:
        builders = {"overview": self.overview, "funnel": self.funnel, "mix": self.mixing,
                    "tokenizer": self.tokenizer, "training": self.training, "evaluation": self.evaluation,
                    "compliance": self.compliance, "provenance": self.provenance}  # fmt: skip
        sections = [(ident, builders[ident]) for ident in SECTIONS]
        nav = "".join(f'<a href="#{ident}">{ident.capitalize()}</a>' for ident, _ in sections)
        body = "".join(fn() for _, fn in sections)
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_esc(self.title)}</title>'
            f"<style>{CSS}</style></head><body><header><h1>{_esc(self.title)}</h1>"
            f"<p>openeurollm run report · {_esc(self.run_dir.name)}</p></header><nav>{nav}</nav><main>{body}</main></body></html>\n"
        )
