"""model_openness.yaml: Model Openness Framework (White et al., 2024) components and class.

The class is computed from what the release folder really contains and the licences the
recipe declares: Class III (open model) needs the architecture, final parameters and the
documents under open licences; Class II adds the code and evaluation data; Class I adds the
datasets, intermediate parameters and a research paper. Components not in the folder are
"Component not included", so they cannot count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from openeurollm.io.fileio import atomic_open
from openeurollm.release.facts import Facts

OSI = {"Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "ISC", "UPL-1.0", "MPL-2.0",
       "GPL-2.0-only", "GPL-3.0-only", "LGPL-3.0-only", "AGPL-3.0-only", "EUPL-1.2"}  # fmt: skip
OPEN_DATA = {
    "CDLA-Permissive-1.0",
    "CDLA-Permissive-2.0",
    "C-UDA-1.0",
    "CC0-1.0",
    "PDDL-1.0",
    "CC-PDDC",
}
OPEN_DOCS = {"CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC0-1.0", "CC-PDDC", "FreeBSD-DOC"}
NOT_INCLUDED = "Component not included"

# (name, class, required, content type, files in the release that make it present)
COMPONENTS: list[tuple[str, int, bool, str, tuple[str, ...]]] = [
    ("Model architecture", 3, True, "code", ("config.json",)),
    ("Model parameters (Final)", 3, True, "params", ("model.safetensors", "model.safetensors.index.json")),
    ("Technical report", 3, True, "document", ("technical_documentation.md",)),
    ("Evaluation results", 3, True, "document", ("eval_results.json",)),
    ("Model card", 3, True, "document", ("README.md",)),
    ("Data card", 3, True, "document", ("datasheet.md",)),
    ("Sample model outputs", 3, False, "any", ("samples.jsonl",)),
    ("Training code", 2, True, "code", ("code/",)),
    ("Inference code", 2, True, "code", ("code/",)),
    ("Evaluation code", 2, True, "code", ("code/",)),
    ("Evaluation data", 2, True, "data", ("eval_data/",)),
    ("Supporting libraries and tools", 2, False, "code", ("code/",)),
    ("Datasets", 1, True, "data", ("data/",)),
    ("Data preprocessing code", 1, True, "code", ("code/",)),
    ("Model parameters (Intermediate)", 1, True, "params", ("checkpoints/",)),
    ("Research paper", 1, True, "document", ("paper/",)),
    ("Model metadata", 1, False, "data", ("training_config.json",)),
]  # fmt: skip
ROMAN = {1: "I", 2: "II", 3: "III"}
CLASS_NAMES = {
    3: "Class III - Open Model",
    2: "Class II - Open Tooling",
    1: "Class I - Open Science",
}


def _present(folder: Path, paths: tuple[str, ...]) -> str | None:
    for p in paths:
        target = folder / p.rstrip("/")
        if (p.endswith("/") and target.is_dir() and any(target.iterdir())) or target.is_file():
            return p
    return None


# Which shipped component (release/open_science.py) each MOF component comes from, so a
# missing one is named with the reason.
SHIPPED_AS = {
    "Training code": "code", "Inference code": "code", "Evaluation code": "code",
    "Supporting libraries and tools": "code", "Data preprocessing code": "code",
    "Evaluation data": "eval_data", "Datasets": "dataset", "Sample model outputs": "samples",
    "Model parameters (Intermediate)": "checkpoints", "Research paper": "paper",
    "Model metadata": "training_config",
}  # fmt: skip


def _why_missing(name: str, f: Facts) -> str:
    shipped = f.info.get("open_science")
    if name not in SHIPPED_AS:
        return ""
    if shipped is None:
        return "not shipped: release.open_science is off"
    return (shipped.get(SHIPPED_AS.get(name, ""), {}) or {}).get("missing", "")


def _license_for(kind: str, f: Facts, name: str = "") -> str | None:
    c = f.cfg
    shipped = (f.info.get("open_science") or {}).get(SHIPPED_AS.get(name, ""), {})
    if name in ("Datasets", "Evaluation data") and "licenses" in shipped:
        # Data carries its documents' own licences; several licences name none for the whole.
        return shipped["license"] or "several: " + ", ".join(shipped["licenses"])
    return {"code": c.code_license, "params": c.license, "document": c.documents_license,
            "data": c.data_license, "any": c.documents_license}[kind]  # fmt: skip


def _open(kind: str, license_id: str | None) -> bool:
    if not license_id:
        return False
    if kind == "code":
        return license_id in OSI
    if kind == "params":
        return license_id in OSI or license_id in OPEN_DATA
    if kind == "data":
        return license_id in OPEN_DATA
    if kind == "document":
        return license_id in OPEN_DOCS
    return license_id in OSI | OPEN_DATA | OPEN_DOCS


def assess(folder: Path, f: Facts) -> dict[str, Any]:
    components, ok_by_class = [], {1: True, 2: True, 3: True}
    missing: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for name, cls, required, kind, paths in COMPONENTS:
        where = _present(folder, paths)
        lic = _license_for(kind, f, name) if where else None
        is_open = bool(where) and _open(kind, lic)
        components.append(
            {
                "name": name,
                "description": f"MOF class {ROMAN[cls]} component"
                + ("" if required else " (optional)"),
                "location": where or NOT_INCLUDED,
                "license_name": (lic or "License not specified") if where else NOT_INCLUDED,
                "license_path": (
                    f"https://spdx.org/licenses/{lic}.html"
                    if where and lic and " " not in lic
                    else ""
                ),
                "open": is_open,
            }
        )
        if required and not is_open:
            ok_by_class[cls] = False
            why = (
                _why_missing(name, f)
                if not where
                else f"licence {lic or 'not specified'} is not open for {kind}"
            )
            missing[cls].append(f"{name}: {why}" if why else name)
    reached = None
    for cls in (3, 2, 1):
        if all(ok_by_class[c] for c in range(cls, 4)):
            reached = cls
    return {
        "class": CLASS_NAMES[reached] if reached else "none (Class III not reached)",
        "components": components,
        "missing": {CLASS_NAMES[c]: missing[c] for c in (3, 2, 1) if missing[c]},
    }


def write_model_openness(folder: Path, f: Facts) -> dict[str, Any]:
    result = assess(folder, f)
    doc = {
        "framework": {"name": "Model Openness Framework", "version": "1.0", "date": "2024-12-15"},
        "release": {
            "name": f.cfg.model_name,
            "version": f.cfg.version,
            "date": f.cfg.release_date or "not provided (set release.release_date)",
            "type": "language",
            "architecture": "transformer decoder",
            "treatment": "pre-trained",
            "origin": f.cfg.model_name,
            "producer": f.cfg.provider,
            "contact": f.cfg.contact or "",
            "license": {
                "distribution": f.cfg.license,
                "code": f.cfg.code_license or "",
                "data": f.cfg.data_license or "",
                "document": f.cfg.documents_license or "",
            },
            "components": result["components"],
        },
        "assessment": {
            "class": result["class"],
            "computed_from": "files present in this release folder and the licences in the recipe",
            "missing_or_not_open": result["missing"],
        },
    }
    with atomic_open(folder / "model_openness.yaml") as fh:
        yaml.safe_dump(doc, fh, sort_keys=False, allow_unicode=True)
    return result
