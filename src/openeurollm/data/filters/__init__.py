"""Quality filters: `keep(doc) -> True | "reason"`, with parameters per language.

A filter class declares `defaults` (its parameters) and `language_defaults` (values that
differ for some languages, e.g. longer mean words in Finnish). A recipe may override
both: `params: {min_words: 30, languages: {fi: {max_mean_word_length: 14}}}`.
Unknown parameter names are recipe errors, not silently ignored.
"""

from __future__ import annotations

from typing import Any, ClassVar

from openeurollm.data.document import Document
from openeurollm.registry import Registry


class Filter:
    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    language_defaults: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, **params: Any) -> None:
        per_language = params.pop("languages", {}) or {}
        self._check(params, "params")
        for lang, values in per_language.items():
            self._check(values, f"languages.{lang}")
        self._base = {**self.defaults, **params}
        self._per_language: dict[str, dict[str, Any]] = {}
        for lang in set(self.language_defaults) | set(per_language):
            self._per_language[lang] = {
                **self._base,
                **self.language_defaults.get(lang, {}),
                **per_language.get(lang, {}),
            }

    def _check(self, values: dict[str, Any], where: str) -> None:
        unknown = sorted(set(values) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"filter {self.name!r} {where}: unknown parameter(s) {unknown} "
                f"(known: {', '.join(sorted(self.defaults))})"
            )

    def params(self, lang: str) -> dict[str, Any]:
        return self._per_language.get(lang, self._base)

    def keep(self, doc: Document) -> bool | str:
        raise NotImplementedError


def _load_filters() -> None:
    from openeurollm.data.filters import c4, fineweb, gopher  # noqa: F401


FILTERS: Registry[type[Filter]] = Registry("filter", loader=_load_filters)


def build_filters(specs: list[Any]) -> list[Filter]:
    """Filter objects from the recipe's FilterSpecs (name + params), in recipe order."""
    return [FILTERS.get(spec.name)(**dict(spec.params)) for spec in specs]
