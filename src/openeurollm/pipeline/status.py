"""Human views of a run directory: the stage table and samples of dropped documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openeurollm.errors import InputError
from openeurollm.io.fileio import read_json
from openeurollm.pipeline.stage import STAGE_ORDER

# The one figure per stage that tells most at a glance.
_HEADLINE = {
    "ingest": ("docs", "docs"),
    "curate": ("docs_kept", "kept"),
    "mix": ("train_docs", "docs"),
    "tokenizer": ("vocab_size", "vocab"),
    "shards": ("total_tokens", "tokens"),
    "train": ("final_loss", "final loss"),
    "release": ("files", "files"),
}


def _load_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "manifest.json"
    if not path.exists():
        raise InputError(f"{run_dir} is not a run directory (no manifest.json); run a recipe first")
    return read_json(path)


def _headline(stage: str, record: dict[str, Any]) -> str:
    if stage == "eval" and record.get("bpb"):
        bpb = record["bpb"]
        return f"bpb {sum(bpb.values()) / len(bpb):.3f} mean of {len(bpb)} languages"
    key, label = _HEADLINE.get(stage, ("", ""))
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        value = len(value)
    if isinstance(value, float):
        return f"{label} {value:.4g}"
    return f"{label} {value:,}" if isinstance(value, int) else f"{label} {value}"


def status_rows(run_dir: Path) -> list[dict[str, str]]:
    manifest = _load_manifest(run_dir)
    rows = []
    for stage in STAGE_ORDER:
        entry = manifest["stages"].get(stage)
        if entry is None:
            rows.append(
                {"stage": stage, "status": "pending", "detail": "", "seconds": "", "finished": ""}
            )
            continue
        detail = _headline(stage, entry.get("record", {}))
        if entry.get("status") == "failed":
            detail = entry.get("error", "")[:80]
        rows.append(
            {
                "stage": stage,
                "status": entry.get("status", "?"),
                "detail": detail,
                "seconds": f"{entry['seconds']:.1f}" if "seconds" in entry else "",
                "finished": entry.get("finished_at", ""),
            }
        )
    return rows


def render_status(run_dir: Path) -> str:
    rows = status_rows(run_dir)
    headers = {
        "stage": "stage",
        "status": "status",
        "detail": "counts",
        "seconds": "seconds",
        "finished": "finished",
    }
    widths = {k: max(len(headers[k]), *(len(r[k]) for r in rows)) for k in headers}
    lines = ["  ".join(headers[k].ljust(widths[k]) for k in headers)]
    lines.append("  ".join("-" * widths[k] for k in headers))
    lines += ["  ".join(r[k].ljust(widths[k]) for k in headers) for r in rows]
    return "\n".join(lines)


def inspect_dropped(run_dir: Path, stage: str, reason: str | None, n: int) -> str:
    folder = run_dir / stage / "dropped"
    reasons = sorted(p.stem for p in folder.glob("*.jsonl")) if folder.exists() else []
    if not reasons:
        raise InputError(f"{folder} holds no dropped-document samples")
    if reason is None:
        return f"drop reasons in {stage}: " + ", ".join(reasons)
    if reason not in reasons:
        import difflib

        close = difflib.get_close_matches(reason, reasons, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"no samples for reason {reason!r}{hint} (known: {', '.join(reasons)})")
    out = []
    with open(folder / f"{reason}.jsonl", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= n:
                break
            item = json.loads(line)
            text = str(item.get("text", ""))
            shown = text if len(text) <= 400 else text[:400] + " [...]"
            out.append(
                f"--- {item.get('id', '?')} [{item.get('lang', '?')}] {item.get('source', '')}\n{shown}"
            )
    return "\n".join(out)
