"""The package layers: `io/` beneath everything, domain packages beneath `pipeline/`.

A domain package (data, tokenizer, shards, model, train, eval, release, report) that imports
`pipeline/` ties the library to our runner; `io/` importing anything of ours would make the
bottom layer depend on the layers above it. Checked on the source's import statements, so a
new import anywhere in a module (not only at the top) is caught.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "openeurollm"
DOMAIN = ["data", "tokenizer", "shards", "model", "train", "eval", "release", "report", "plan"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_do_not_import_the_pipeline(package: str) -> None:
    offenders = [
        f"{path.relative_to(PKG)} imports {name}"
        for path in sorted((PKG / package).rglob("*.py"))
        for name in sorted(_imports(path))
        if name == "openeurollm.pipeline" or name.startswith("openeurollm.pipeline.")
    ]
    assert offenders == []


def test_io_imports_nothing_of_ours_but_itself() -> None:
    offenders = [
        f"{path.relative_to(PKG)} imports {name}"
        for path in sorted((PKG / "io").rglob("*.py"))
        for name in sorted(_imports(path))
        if name.startswith("openeurollm.") and not name.startswith("openeurollm.io")
    ]
    assert offenders == []
    assert (PKG / "io" / "fileio.py").exists()  # the check above must have read something
