"""Progress for long work: a rich bar on a terminal, periodic one-line logs otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("openeurollm")


def progress(
    items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it"
) -> Iterator[T]:
    """Iterate `items`, showing rate and ETA. Logs every ~10 s when stderr is not a terminal."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if sys.stderr.isatty():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task) -> Text:  # type: ignore[no-untyped-def]
                return Text(f"{task.speed or 0:.1f} {unit}/s")

        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task(desc, total=total)
            for item in items:
                yield item
                bar.advance(task)
        return
    start = last = time.monotonic()
    for done, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if now - last >= 10:
            last = now
            rate = done / (now - start)
            eta = f", eta {(total - done) / rate:.0f}s" if total and rate > 0 else ""
            of = f"/{total}" if total else ""
            log.info("%s: %d%s %s (%.1f %s/s%s)", desc, done, of, unit, rate, unit, eta)
