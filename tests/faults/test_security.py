"""Source-level guarantees: no pickle, safe YAML, weights-only torch.load, no unfiltered archive extraction."""

from __future__ import annotations

import re

from ..conftest import REPO

SOURCES = sorted(p for d in ("src", "benchmarks") for p in (REPO / d).rglob("*.py"))


def _offending(pattern: str, allow: str | None = None) -> list[str]:
    hits = []
    for path in SOURCES:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(pattern, code) and not (allow and re.search(allow, code)):
                hits.append(f"{path.relative_to(REPO)}:{lineno}: {line.strip()}")
    return hits


def test_sources_were_found() -> None:
    assert len(SOURCES) > 20


def test_no_pickle() -> None:
    assert (
        _offending(r"\bimport pickle\b|\bpickle\.|\bcPickle\b|\bdill\b|cloudpickle|joblib\.load")
        == []
    )


def test_torch_load_is_weights_only() -> None:
    assert _offending(r"torch\.load\(", allow=r"weights_only\s*=\s*True") == []


def test_yaml_is_safe_loaded() -> None:
    assert _offending(r"yaml\.(load|unsafe_load|full_load)\(") == []
    assert _offending(r"yaml\.Loader\b|yaml\.UnsafeLoader|yaml\.FullLoader") == []


def test_no_eval_exec_or_shell_strings() -> None:
    assert _offending(r"(?<![\w.])(eval|exec)\(") == []
    assert _offending(r"shell\s*=\s*True") == []


def test_archives_are_never_extracted_blindly() -> None:
    # tarfile/zipfile extractall without a filter follows "../" and absolute member names.
    assert _offending(r"\.extractall\(", allow=r"filter\s*=\s*['\"]data['\"]") == []
