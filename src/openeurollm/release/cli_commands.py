"""Functions behind `openeurollm check-inclusion` and `openeurollm verify` (wired in cli.py)."""

from __future__ import annotations

from pathlib import Path

from openeurollm.errors import InputError, StageError
from openeurollm.escape import terminal_safe
from openeurollm.release.checksums import VerifyReport
from openeurollm.release.checksums import verify_release as _verify
from openeurollm.release.membership import MembershipIndex

# What "no false negatives" covers, stated wherever a "not included" answer is given.
NO_FALSE_NEGATIVES_SCOPE = (
    "no false negatives for the URL of every trained document (any spelling of it: http or "
    "https, host case, default port, #fragment, trailing /, percent-encoding case) and for "
    "its full text (after normalizing case, punctuation, spacing and Unicode form; as "
    "trained or before PII masking); not covered: the same page under another URL "
    "(redirects, www., other query parameters), an excerpt, or an edited text"
)


def check_inclusion(release_dir: Path, url: str | None, text_file: Path | None) -> tuple[bool, str]:
    """(included?, an answer stating the false-positive rate and what a "no" covers)."""
    if (url is None) == (text_file is None):
        raise InputError("give exactly one of --url or --text-file")
    index = MembershipIndex.load(Path(release_dir))
    if url is not None:
        found, what = index.contains_url(url), f"URL {url}"
    else:
        try:
            text = Path(text_file).read_text(encoding="utf-8")  # type: ignore[arg-type]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {text_file}: {exc}") from None
        found, what = index.contains_text(text), f"text of {text_file}"
    what = terminal_safe(what)
    fpr = f"{index.false_positive_rate:.2%}"
    if found:
        return True, (
            f"included: the {what} matches the training data's membership index "
            f"(false-positive rate {fpr}: a match can be wrong with this probability)"
        )
    scope = NO_FALSE_NEGATIVES_SCOPE
    if index.url_form != "canonical":
        scope = "index of an older format: URLs match only as written, not in other spellings"
    return False, (
        f"not included: the {what} was not in the training data "
        f"(false-positive rate {fpr}; {scope})"
    )


def verify_release(release_dir: Path) -> VerifyReport:
    """The verify report; StageError listing the problems (one line) when there are any."""
    report = _verify(Path(release_dir))
    if not report.ok:
        shown = "; ".join(report.problems[:5])
        more = len(report.problems) - 5
        raise StageError(
            f"verify failed: {shown}" + (f"; and {more} more problem(s)" if more > 0 else "")
        )
    return report
