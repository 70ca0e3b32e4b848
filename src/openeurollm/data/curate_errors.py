"""When curation itself is broken: errors, not inputs, quarantining documents.

An exception while curating one document quarantines it as `curate_error:<Type>` and the
stage goes on, so one pathological document cannot stop a run. Many of them mean a bug or a
broken setting (a filter parameter of the wrong type once quarantined every document, and
the run "succeeded" with 0 kept): beyond a small share the stage fails.
"""

from __future__ import annotations

MAX_ERROR_SHARE = 0.01
MAX_ERRORS_ALWAYS_TOLERATED = 3


def check_error_rate(docs_in: int, quarantined: dict[str, int]) -> None:
    """ValueError when curate errors quarantined more than a small share of the documents."""
    errors = {r: n for r, n in quarantined.items() if r.startswith("curate_error:")}
    total = sum(errors.values())
    if total > max(MAX_ERRORS_ALWAYS_TOLERATED, MAX_ERROR_SHARE * docs_in):
        worst = max(errors, key=lambda r: errors[r])
        raise ValueError(
            f"{total} of {docs_in} documents failed with errors (mostly {worst}: "
            f"{errors[worst]}), more than {MAX_ERROR_SHARE:.0%}; this is a bug or a broken "
            "setting, not bad input. See the quarantine files for the messages"
        )
