"""MOF Class I components shipped with the release (release.open_science): the source archive
of the code at the recorded commit, the curated dataset when every document's licence allows
redistribution, the intermediate checkpoints, the evaluation data, sample outputs per language,
the training configuration and the research paper. What cannot be shipped is named with why.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from openeurollm.io.fileio import atomic_open, atomic_path

# Licences under which anyone may redistribute the documents (with attribution or share-alike
# where they say so); only these let the curated dataset ship.
REDISTRIBUTABLE = {"CC0-1.0", "PDDL-1.0", "CC-PDDC", "CDLA-Permissive-1.0", "CDLA-Permissive-2.0",
                   "CC-BY-4.0", "CC-BY-SA-4.0", "ODC-By-1.0", "ODbL-1.0"}  # fmt: skip


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def _copy_tree(files: Iterable[Path], root: Path, dest: Path) -> list[str]:
    out = []
    for path in sorted(files):
        rel = path.relative_to(root)
        _copy(path, dest / rel)
        out.append((dest.name / rel).as_posix())
    return out


# Document metadata that must not leave the run: the hash of a document's text before PII
# masking lets anyone confirm a guess of the masked personal data by hashing it.
PRIVATE_META = frozenset({"unmasked_hash"})


def _ship_documents(files: Iterable[Path], root: Path, dest: Path) -> list[str]:
    """Copy document shards, rewritten without the private metadata keys."""
    import dataclasses

    from openeurollm.data.docstore import read_documents, write_documents

    out = []
    for path in sorted(files):
        rel = path.relative_to(root)
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        write_documents(
            target,
            (
                dataclasses.replace(
                    doc, meta={k: v for k, v in doc.meta.items() if k not in PRIVATE_META}
                )
                for doc in read_documents(path)
            ),
        )
        out.append((dest.name / rel).as_posix())
    return out


def document_licences(files: Iterable[Path]) -> dict[str, int]:
    """Each licence of the documents in these Parquet files, with its documents (ingest gave
    every document its own licence or its input's default)."""
    from openeurollm.data.docstore import read_documents

    counts: dict[str, int] = {}
    for path in files:
        for doc in read_documents(path):
            meta = doc.meta if isinstance(doc.meta, dict) else {}
            lic = str(meta.get("license") or "not recorded")
            counts[lic] = counts.get(lic, 0) + 1
    return dict(sorted(counts.items()))


def single_licence(counts: Mapping[str, int]) -> str | None:
    """The one licence every item carries, or None when they differ (MOF needs one)."""
    return next(iter(counts)) if len(counts) == 1 else None


def _parquet(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))


def code_archive(out: Path, commit: str) -> dict[str, Any]:
    """`git archive` of the whole repository (training, evaluation and preprocessing code,
    recipes) at the commit the run recorded."""
    sha = commit.split(" ")[0]
    if len(sha) != 40:
        return {"missing": f"the run's code commit is {commit!r}, so no source archive can be made"}
    package = Path(__file__).resolve().parents[1]
    dest = out / "code" / f"openeurollm-{sha[:12]}.tar.gz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest) as tmp:
        done = subprocess.run(
            ["git", "-C", str(package), "archive", "--format=tar.gz",
             f"--prefix=openeurollm-{sha[:12]}/", "-o", str(tmp), sha],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            return {"missing": f"git archive {sha[:12]} failed: {done.stderr.strip()[:200]}"}
    note = (
        " The run had uncommitted changes, which the archive does not hold."
        if "uncommitted" in commit
        else ""
    )
    return {"file": dest.relative_to(out).as_posix(), "commit": sha, "note": note.strip()}


def ship_dataset(out: Path, run_dir: Path) -> dict[str, Any]:
    docs = run_dir / "curate" / "docs"
    files = _parquet(docs)
    licences = document_licences(files)
    blocked = sorted(lic for lic in licences if lic not in REDISTRIBUTABLE)
    if not licences or blocked:
        why = ", ".join(blocked) if blocked else "no documents"
        return {"missing": f"the documents' licences do not allow redistribution ({why})"}
    shipped = _ship_documents(files, docs, out / "data" / "curated")
    return {"folder": "data/curated", "files": [Path(f).name for f in shipped],
            "licenses": licences, "license": single_licence(licences)}  # fmt: skip


def ship_checkpoints(out: Path, run_dir: Path) -> dict[str, Any]:
    root = run_dir / "train" / "checkpoints"
    steps = sorted(p for p in root.glob("step-*") if p.is_dir()) if root.is_dir() else []
    if not steps:
        return {
            "missing": "the run kept no intermediate checkpoints (train.checkpoint_every, keep_last)"
        }
    # Every file the checkpoint's trainer.json lists, DCP's .metadata included: without it
    # torch.distributed.checkpoint cannot load the shards.
    files = [
        f
        for step in steps
        for f in step.rglob("*")
        if f.is_file() and (f.name == ".metadata" or not f.name.startswith("."))
    ]
    _copy_tree(files, root, out / "checkpoints")
    return {"folder": "checkpoints", "steps": [p.name for p in steps],
            "format": "torch.distributed.checkpoint (model and optimizer state)"}  # fmt: skip


def ship_eval_data(
    out: Path, run_dir: Path, task_files: Iterable[Path], base: Path, tasks_license: str | None
) -> dict[str, Any]:
    """Held-out documents (each under its own licence) and the task files (under the
    provider's release.data_license)."""
    held = run_dir / "mix" / "heldout"
    licences = document_licences(_parquet(held))
    shipped = _ship_documents(_parquet(held), held, out / "eval_data" / "heldout")
    for path in task_files:
        try:
            rel = path.resolve().relative_to(base.resolve())
        except ValueError:
            rel = Path(path.name)
        _copy(path, out / "eval_data" / "tasks" / rel)
        shipped.append(f"eval_data/tasks/{rel.as_posix()}")
        key = tasks_license or "not specified (release.data_license)"
        licences[key] = licences.get(key, 0) + 1
    return {"folder": "eval_data", "files": shipped, "licenses": licences,
            "license": single_licence(licences)}  # fmt: skip


def write_training_config(out: Path, entries: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    config = entries.get("train", {}).get("config")
    if not config:
        return {"missing": "the train stage's configuration is not recorded"}
    with atomic_open(out / "training_config.json") as fh:
        json.dump(config, fh, indent=2, sort_keys=True, allow_nan=False)
        fh.write("\n")
    return {"file": "training_config.json"}
