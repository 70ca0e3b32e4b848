"""training_content_summary.json: the machine-readable core of the public summary, so that the
next release of the same model can link this one and state what changed in the training data
since (release.previous_summary): sources, sizes and the opt-outs applied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from openeurollm.errors import InputError
from openeurollm.io.fileio import atomic_path, file_sha256
from openeurollm.release.facts import NOT_RECORDED, Facts, fmt
from openeurollm.release.model_card import table
from openeurollm.release.sections import sources_by_name
from openeurollm.release.statements import optout_protocol_rows

SUMMARY_JSON = "training_content_summary.json"
PREVIOUS_JSON = "previous_training_content_summary.json"
FORMAT = "openeurollm-training-content-summary/v1"


def build(f: Facts) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "model": f.model_id(),
        "version": f.cfg.version,
        "last_update": f.today,
        "sources": {
            g["name"]: {"documents": g["docs"], "bytes": g["bytes"], "licenses": g["license_docs"]}
            for g in sources_by_name(f)
        },
        "tokens_seen": f.rec("train", "tokens_seen") or None,
        "tokens_per_language": f.tokens_per_language(),
        "optouts": {
            row[0]: {
                "applied": row[1] == "applied",
                "input": row[2],
                "documents_removed": row[3] if row[3] != "-" else 0,
            }
            for row in optout_protocol_rows(f)
        },
        "optout_documents_removed": f.rec("curate", "optout_docs_removed") or 0,
    }


def render_json(f: Facts) -> str:
    return json.dumps(build(f), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def read_previous(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"release.previous_summary: cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(
            f"release.previous_summary: {path} is not a {SUMMARY_JSON} of an earlier release"
        )
    return data


def ship_previous(out: Path, previous: Path) -> dict[str, Any]:
    """Copy the previous summary into the release (so the link resolves) and return it with
    its digest, for changes_since."""
    data = read_previous(previous)
    with atomic_path(out / PREVIOUS_JSON) as tmp:
        shutil.copyfile(previous, tmp)
    return {"data": data, "sha256": file_sha256(out / PREVIOUS_JSON)}


def _delta(new: Any, old: Any) -> str:
    if not isinstance(new, int) or not isinstance(old, int):
        return NOT_RECORDED
    return f"{new - old:+,}"


def changes_since(f: Facts) -> str:
    """The section of the public summary that links the previous version and states what
    changed in the training data: sources added or removed, sizes, opt-outs applied."""
    if "previous_summary" not in f.info:
        return (
            "## Changes since the previous version\n\nNo previous version is linked "
            "(a first release, or release.previous_summary is not set).\n"
        )
    previous, digest = f.info["previous_summary"]["data"], f.info["previous_summary"]["sha256"]
    now = build(f)
    old_src, new_src = previous.get("sources", {}), now["sources"]
    rows = []
    for name in sorted(set(old_src) | set(new_src)):
        o, n = old_src.get(name), new_src.get(name)
        state = "added" if o is None else "removed" if n is None else "kept"
        rows.append([name, state, (o or {}).get("documents", "-"), (n or {}).get("documents", "-"),
                     _delta((n or {}).get("bytes", 0), (o or {}).get("bytes", 0))])  # fmt: skip
    opt_rows = []
    for name in sorted(set(previous.get("optouts", {})) | set(now["optouts"])):
        o, n = previous.get("optouts", {}).get(name, {}), now["optouts"].get(name, {})
        opt_rows.append([name, "applied" if o.get("applied") else "not applied",
                         "applied" if n.get("applied") else "not applied",
                         o.get("documents_removed", "-"), n.get("documents_removed", "-")])  # fmt: skip
    return f"""## Changes since the previous version

- Previous summary: version {previous.get("version", NOT_RECORDED)} of {previous.get("model", NOT_RECORDED)}, last updated {previous.get("last_update", NOT_RECORDED)}: {PREVIOUS_JSON} in this release (SHA-256 {digest}).
- Tokens seen in training: {fmt(previous.get("tokens_seen"))} then, {fmt(now["tokens_seen"])} now.
- Documents removed for an opt-out: {fmt(previous.get("optout_documents_removed"))} then, {fmt(now["optout_documents_removed"])} now.

Sources:

{table(["dataset", "change", "documents before", "documents now", "bytes change"], rows)}
Opt-out protocols:

{table(["protocol", "before", "now", "documents removed before", "documents removed now"], opt_rows)}"""
