"""Quality filters: `keep(doc) -> True | "reason"`, with parameters per language.

A filter class declares `defaults` (its parameters) and `language_defaults` (values that
differ for some languages, e.g. longer mean words in Finnish). A recipe may override
both: `params: {min_words: 30, languages: {fi: {max_mean_word_length: 14}}}`.
Unknown parameter names are recipe errors, not silently ignored.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, create_model

from openeurollm import EU_LANGUAGES, EXTRA_LANGUAGES
from openeurollm.data.document import Document
from openeurollm.registry import Registry


def _param_type(default: Any) -> Any:
    """The type a parameter takes, from its default: strict (no "50" for 50, no true for 1),
    finite, and never negative (every parameter is a count, a length or a ratio)."""
    if isinstance(default, bool):
        return Annotated[bool, Strict()]
    if isinstance(default, int):
        return Annotated[int, Strict(), Field(ge=0)]
    if isinstance(default, float):
        return Annotated[float, Strict(), Field(ge=0.0, allow_inf_nan=False)]
    return Annotated[type(default), Strict()]


class Filter:
    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    language_defaults: ClassVar[dict[str, dict[str, Any]]] = {}
    # Built from `defaults` for each subclass: what a recipe's `params` may hold.
    params_model: ClassVar[type[BaseModel]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, Any] = {
            key: (_param_type(value), value) for key, value in cls.defaults.items()
        }
        cls.params_model = create_model(  # type: ignore[call-overload]
            f"{cls.__name__}Params", __config__=ConfigDict(extra="forbid"), **fields
        )

    def __init__(self, **params: Any) -> None:
        self.check_params(params)
        per_language = params.pop("languages", {}) or {}
        self._base = {**self.defaults, **params}
        self._per_language: dict[str, dict[str, Any]] = {}
        for lang in set(self.language_defaults) | set(per_language):
            self._per_language[lang] = {
                **self._base,
                **self.language_defaults.get(lang, {}),
                **per_language.get(lang, {}),
            }

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """ValueError naming the parameter when `params` (as a recipe gives them) is wrong."""
        params = dict(params)
        per_language = params.pop("languages", None) or {}
        cls._check(params, "params")
        if not isinstance(per_language, dict):
            raise ValueError(f"filter {cls.name!r} params.languages: expected a mapping")
        for lang, values in per_language.items():
            if lang not in EU_LANGUAGES + EXTRA_LANGUAGES:
                raise ValueError(f"filter {cls.name!r} params.languages: unknown language {lang!r}")
            if not isinstance(values, dict):
                raise ValueError(f"filter {cls.name!r} params.languages.{lang}: expected a mapping")
            cls._check(values, f"params.languages.{lang}")

    @classmethod
    def _check(cls, values: dict[str, Any], where: str) -> None:
        known = sorted(cls.defaults)
        for key in values:
            if key not in cls.defaults:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"filter {cls.name!r} {where}: unknown parameter {str(key)[:80]!r}{hint} "
                    f"(known: {', '.join(known)})"
                )
        try:
            cls.params_model.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"filter {cls.name!r} {where}.{field}: {first['msg']}") from None

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
