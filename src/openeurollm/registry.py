"""Name -> object registries with did-you-mean errors (filters, readers, flavors, stages).

Readers, filters and curation steps may also come from other installed packages: a
package that declares an entry point in one of ENTRY_POINT_GROUPS adds a name to that
registry (see docs/guides/plugins.md). Entry points are listed on first use and each is
imported only when a recipe names it, so a broken plugin cannot break other names.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

T = TypeVar("T")

# Registry kind -> the entry-point group other packages register into.
ENTRY_POINT_GROUPS = {
    "reader": "openeurollm.readers",
    "filter": "openeurollm.filters",
    "curation step": "openeurollm.steps",
}


class Registry(Generic[T]):
    """A named table that recipes refer to by string.

    `loader` imports the modules that register entries, so the table fills itself on
    first use instead of at package import time (keeps `openeurollm --help` fast).
    """

    def __init__(self, kind: str, loader: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._loader = loader
        self._loaded = False
        self._plugins: dict[str, EntryPoint] = {}  # listed, imported on first `get`

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return add

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            if self._loader is not None:
                self._loader()
            group = ENTRY_POINT_GROUPS.get(self.kind)
            if group:
                for ep in entry_points(group=group):
                    if ep.name not in self._entries:  # built-in names win
                        self._plugins.setdefault(ep.name, ep)

    def names(self) -> list[str]:
        self._ensure_loaded()
        return sorted(set(self._entries) | set(self._plugins))

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._entries or name in self._plugins

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def unknown_message(self, name: str) -> str:
        names = self.names()
        # A name far longer than any entry is no typo (and difflib on it is slow).
        close = difflib.get_close_matches(name, names, n=1) if len(name) <= 100 else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        shown = name if len(name) <= 100 else name[:100] + "..."
        return f"unknown {self.kind} {shown!r}{hint} (known: {', '.join(names)})"

    def get(self, name: str) -> T:
        self._ensure_loaded()
        if name not in self._entries and name in self._plugins:
            self._entries[name] = self._load_plugin(self._plugins.pop(name))
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(self.unknown_message(name)) from None

    def _load_plugin(self, ep: EntryPoint) -> T:
        try:
            return ep.load()
        except Exception as exc:  # any error inside someone else's package
            raise ValueError(
                f"{self.kind} {ep.name!r} ({ep.value}, entry point group {ep.group}) "
                f"could not be loaded: {type(exc).__name__}: {exc}"
            ) from None
