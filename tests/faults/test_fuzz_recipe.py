"""Fuzzing the recipe loader with hostile YAML: anchors and aliases, deep nesting, huge and
non-finite numbers, tags, includes, and `--set` overrides aimed at every field of the schema.
Whatever comes in, out comes a Recipe or a one-line RecipeError, within bounded time and memory.
"""

from __future__ import annotations

import time
import tracemalloc
import typing
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from openeurollm.config import Recipe, load_recipe
from openeurollm.errors import RecipeError

from .conftest import FAULTS

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
SECONDS_PER_CASE = 10.0  # generous: CI shares its cores; the alias bomb took >120 s
PEAK_BYTES_PER_CASE = 64 << 20


def _schema_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        out.append(path)
        for candidate in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                out += _schema_paths(candidate, path + ".")
    return out


PATHS = _schema_paths(Recipe)
KEYS = sorted({p.rsplit(".", 1)[-1] for p in PATHS} | {"include", "<<", "params", "languages"})

hostile_scalars = st.sampled_from(
    [
        "1", "-5", "0", "0.5", "3e-4", ".inf", "-.inf", ".nan", "true", "false", "~", "null",
        "1e400", "10000000000", "0x10", "0o17", "1_000", "'50'", '"\\u0000"', "debug", "de",
        "docs.jsonl", "/**", "../../**", "/dev/zero", "/etc/shadow", "base.yaml", "unimax",
        "9" * 5000, "x" * 3000, "!!binary aGVsbG8=", "!!python/object:os.system [ls]",
        "!!timestamp 2001-12-14", "2001-12-14", "*a", "*b", "&a 1", "? a", "'", "[", "{", "%",
    ]
)  # fmt: skip


def _flow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    anchor = st.sampled_from(["", "", "&a ", "&b "])
    seq = st.builds(
        lambda a, items: f"{a}[{', '.join(items)}]", anchor, st.lists(children, max_size=5)
    )
    pairs = st.lists(st.tuples(st.sampled_from(KEYS), children), max_size=5)
    mapping = st.builds(
        lambda a, kv: a + "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}", anchor, pairs
    )
    return st.one_of(seq, mapping)


values = st.recursive(hostile_scalars, _flow, max_leaves=25)
sections = st.lists(
    st.tuples(st.sampled_from([*Recipe.model_fields, "include", "x-anchors"]), values),
    max_size=8,
)
deep = st.integers(1, 3000).map(lambda n: "train: {lr: " + "[" * n + "]" * n + "}")


def _bounded(call: typing.Callable[[], object]) -> None:
    """Run `call`: a Recipe or a one-line RecipeError, in bounded time and memory."""
    FAULTS["fuzz_cases"] += 1
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = call()
        assert isinstance(result, Recipe)
    except RecipeError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 2000, message[:500]
    finally:
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert seconds < SECONDS_PER_CASE, seconds
    assert peak < PEAK_BYTES_PER_CASE, peak


def _workdir(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp() / "fuzz-recipe-yaml"
    if not base.is_dir():
        base.mkdir()
        (base / "docs.jsonl").write_text('{"text": "x"}\n')
        (base / "base.yaml").write_text("include: [base2.yaml]\ntrain: {steps: 5}\n")
        (base / "base2.yaml").write_text("ingest: {inputs: [{path: docs.jsonl}]}\n")
    return base


@FUZZ
@given(body=st.one_of(sections.map(lambda s: "\n".join(f"{k}: {v}" for k, v in s)), deep))
def test_random_yaml_recipes_load_or_fail_in_one_line(tmp_path_factory, body: str) -> None:
    base = _workdir(tmp_path_factory)
    path = base / "fuzz.yaml"
    path.write_text("ingest: {inputs: [{path: docs.jsonl}]}\n" + body + "\n", encoding="utf-8")
    _bounded(lambda: load_recipe(path))


@FUZZ
@given(
    overrides=st.lists(
        st.tuples(st.sampled_from([*PATHS, "a..b", "train.lr.x", ""]), values), max_size=4
    )
)
def test_random_set_overrides_load_or_fail_in_one_line(tmp_path_factory, overrides: list) -> None:
    base = _workdir(tmp_path_factory)
    path = base / "base-recipe.yaml"
    path.write_text("include: base.yaml\n", encoding="utf-8")
    _bounded(lambda: load_recipe(path, [f"{key}={value}" for key, value in overrides]))
