"""The recipe reference (docs/recipe-reference.md), generated from the schema so it cannot drift."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from openeurollm.config import Recipe

HEADER = """# Recipe reference

Generated from the schema in `src/openeurollm/config.py` by
`openeurollm recipe-reference --out docs/recipe-reference.md`; a test fails when this file
is out of date, so do not edit it by hand. Every field has a default that runs unless
marked *required*. Relative paths are relative to the recipe file. Override any field on
the command line with `--set section.field=value` (the value is parsed as YAML).
"""


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin in (list, tuple, set):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if origin is typing.Annotated:
        return _type_name(args[0])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "section"
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _constraints(field: FieldInfo) -> str:
    out = []
    for meta in field.metadata:
        for attr, sym in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"), ("min_length", "min length "),
                          ("pattern", "matches ")):  # fmt: skip
            value = getattr(meta, attr, None)
            if value is not None:
                out.append(f"{sym}{value}" if attr != "pattern" else f"matches `{value}`")
    return ", ".join(out)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "*required*"
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return "*required*"
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        value = [v.model_dump(mode="json") for v in value]
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _nested_model(tp: Any) -> tuple[type[BaseModel] | None, bool]:
    """The section class inside an annotation, and whether it is a list of them."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp, False
    for arg in typing.get_args(tp):
        model, _ = _nested_model(arg)
        if model is not None:
            return model, typing.get_origin(tp) is list
    return None, False


def _section(path: str, model: type[BaseModel], out: list[str]) -> None:
    out.append(f"\n## `{path}`\n")
    doc = (model.__doc__ or "").strip()
    if doc and not doc.startswith(("Base class", "Create a new model")):
        out.append(doc.splitlines()[0] + "\n")
    out.append("| field | type | default | notes |\n| --- | --- | --- | --- |")
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        sub, is_list = _nested_model(field.annotation)
        # One line, pipes escaped: a Markdown table row ends at a line break, a cell at a pipe.
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        notes = " ".join(x for x in (description, _constraints(field)) if x)
        type_name = _type_name(field.annotation)
        if sub is not None:
            child = f"{path}.{name}{'[]' if is_list else ''}"
            nested.append((child, sub))
            type_name = f"{'list of ' if is_list else ''}[`{child}`](#{child.replace('.', '').replace('[]', '')})"
        out.append(f"| `{name}` | {type_name} | {_default(field)} | {notes} |")
    for child, sub in nested:
        _section(child, sub, out)


def recipe_reference() -> str:
    out = [HEADER]
    for name, field in Recipe.model_fields.items():
        model, is_list = _nested_model(field.annotation)
        assert model is not None and not is_list
        _section(name, model, out)
    return "\n".join(out).rstrip() + "\n"
