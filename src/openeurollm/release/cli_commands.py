"""Functions behind `openeurollm check-inclusion` and `openeurollm verify` (wired in cli.py)."""

from __future__ import annotations

from pathlib import Path

from openeurollm.errors import InputError
from openeurollm.release.checksums import verify_release as _verify
from openeurollm.release.membership import MembershipIndex


def check_inclusion(release_dir: Path, url: str | None, text_file: Path | None) -> tuple[bool, str]:
    """(included?, a one-line answer stating the false-positive rate)."""
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
    fpr = f"{index.false_positive_rate:.2%}"
    if found:
        return True, (
            f"included: the {what} matches the training data's membership index "
            f"(false-positive rate {fpr}: a match can be wrong with this probability)"
        )
    return False, (
        f"not included: the {what} was not in the training data "
        f"(the index has no false negatives; false-positive rate {fpr})"
    )


def verify_release(release_dir: Path) -> None:
    """Raise StageError naming the first file whose SHA-256 differs from SHA256SUMS."""
    _verify(Path(release_dir))
