"""provenance.intoto.json: an in-toto Statement v1 with an SLSA-style provenance predicate.

It binds what the release is (every published file by SHA-256) to how it was made: the
recipe, the git commit of the code, the digest of every input file, and each stage's key
(the digest of its configuration and inputs). SHA256SUMS covers this file, and the detached
signature covers both (release/signing.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openeurollm.io.fileio import atomic_open, file_sha256
from openeurollm.release.checksums import release_files

PROVENANCE_NAME = "provenance.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:openeurollm:recipe-run:v1"


def _input_files(entries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every external input file of every stage (recipe-relative name -> SHA-256), once."""
    seen: dict[str, str] = {}
    for entry in entries.values():
        for name, digest in sorted(((entry.get("inputs") or {}).get("files") or {}).items()):
            seen.setdefault(name, digest)
    return [{"name": n, "digest": {"sha256": d}} for n, d in sorted(seen.items())]


def _code(entries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The openeurollm commit each stage ran with ("not recorded" outside a git checkout)."""
    out = []
    for stage, entry in entries.items():
        commit = (entry.get("versions") or {}).get("openeurollm_commit", "not recorded")
        item: dict[str, Any] = {"name": f"openeurollm source ({stage} stage)", "annotations": {}}
        sha = commit.split(" ")[0]
        if len(sha) == 40 and all(c in "0123456789abcdef" for c in sha):
            item["digest"] = {"gitCommit": sha}
        item["annotations"]["commit"] = commit
        out.append(item)
    return out


def build_statement(
    release_dir: Path,
    entries: Mapping[str, Mapping[str, Any]],
    recipe: Mapping[str, Any] | None,
) -> dict[str, Any]:
    root = Path(release_dir)
    subjects = [
        {"name": rel, "digest": {"sha256": file_sha256(root / rel)}}
        for rel in release_files(root)
        if rel != PROVENANCE_NAME
    ]
    started = [e["started_at"] for e in entries.values() if e.get("started_at")]
    finished = [e["finished_at"] for e in entries.values() if e.get("finished_at")]
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"recipe": dict(recipe) if recipe else "not recorded"},
                "internalParameters": {
                    "stages": {
                        name: {"key": e.get("key"), "output_digest": e.get("output_digest")}
                        for name, e in sorted(entries.items())
                    }
                },
                # Sorted: the manifest's stage order depends on the run's history (a stage
                # redone after a kill moves), and the statement must not.
                "resolvedDependencies": sorted(
                    _code(entries) + _input_files(entries),
                    key=lambda d: json.dumps(d, sort_keys=True),
                ),
            },
            "runDetails": {
                "builder": {"id": BUILD_TYPE},
                "metadata": {
                    "startedOn": min(started) if started else None,
                    "finishedOn": max(finished) if finished else None,
                },
            },
        },
    }


def write_provenance(
    release_dir: Path,
    entries: Mapping[str, Mapping[str, Any]],
    recipe: Mapping[str, Any] | None,
) -> Path:
    """Write the statement over every file already in the release (call it just before
    SHA256SUMS); returns its path."""
    path = Path(release_dir) / PROVENANCE_NAME
    with atomic_open(path) as fh:
        json.dump(
            build_statement(release_dir, entries, recipe),
            fh,
            indent=2,
            sort_keys=True,
            allow_nan=False,
        )
        fh.write("\n")
    return path
