"""Counts for the fault suite's summary line: kills injected, identical resumes, corruptions
detected, fuzz cases run. Printed at the end of the test session with its JSON twin."""

from __future__ import annotations

import json
from collections import Counter

import pytest

FAULTS: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FAULTS:
        return
    line = (
        f"fault suite: {FAULTS['kills_injected']} SIGKILLs injected, "
        f"{FAULTS['runs_resumed_identical']} killed run(s) resumed to an identical release, "
        f"{FAULTS['corruptions_detected']} corruptions detected, {FAULTS['fuzz_cases']} fuzz cases run"
    )
    terminalreporter.write_line(line)
    terminalreporter.write_line(json.dumps(dict(sorted(FAULTS.items()))))
