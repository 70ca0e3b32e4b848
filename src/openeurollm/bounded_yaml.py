"""YAML for recipes, with bounds: a recipe is small, so anything huge is an attack or a mistake.

`yaml.safe_load` is safe from code execution but not from size: ten nested aliases of ten
items each ("billion laughs") build a value of 10^10 leaves that costs nothing to parse and
everything to validate, print or hash. So the document's node graph is composed first and
its size *with aliases expanded* is counted (memoized, so counting a bomb is cheap) before
any Python object is built. Errors never quote the document: it may be a file that was
never meant to be shown (an `include:` aimed at a secret).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_RECIPE_BYTES = 256 << 10
"""A recipe file (or an include) larger than this is refused unread."""
MAX_NODES = 100_000
"""Scalars, lists and mappings in one document, counting each alias as a full copy."""
MAX_DEPTH = 64
"""Nesting of lists and mappings."""


class YamlLimitError(ValueError):
    """The document is over a bound or not YAML; the message never quotes its content."""


class YamlSyntaxError(YamlLimitError):
    """Not YAML at all (a `--set` value then stays a plain string)."""


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int], depth: int) -> int:
    if depth > MAX_DEPTH:
        raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep")
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise YamlLimitError("an alias refers to itself (recursive structure)")
    size = 1
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
        active.add(key)
        children = (
            node.value
            if isinstance(node, yaml.SequenceNode)
            else [part for pair in node.value for part in pair]
        )
        for child in children:
            size += _expanded_size(child, memo, active, depth + 1)
            if size > MAX_NODES:
                break
        active.discard(key)
    memo[key] = size
    return size


def _position(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "syntax error"
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def _check_flow_depth(text: str) -> None:
    """Refuse deep `[[[...` before PyYAML scans it: its scanner is quadratic in flow depth
    (1,000 levels: 10 s). Brackets inside strings count too, so this errs towards refusing
    only text with more than MAX_DEPTH unclosed brackets, which no recipe has."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(0, depth - 1)
        if depth > MAX_DEPTH:
            raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep")


_BRACKETS = re.compile(r"[\[\]{}]")


def _compose_and_construct(loader: yaml.SafeLoader) -> Any:
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, set(), 0) > MAX_NODES:
            raise YamlLimitError(
                f"more than {MAX_NODES} values once aliases are expanded (an alias bomb?)"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_bounded(text: str) -> Any:
    """Parse one YAML document within the bounds above; YamlLimitError otherwise."""
    if len(text) > MAX_RECIPE_BYTES:
        raise YamlLimitError(f"larger than {MAX_RECIPE_BYTES} bytes")
    _check_flow_depth(text)
    try:
        # The loader checks the characters of the whole text when it is created.
        return _compose_and_construct(yaml.SafeLoader(text))
    except YamlLimitError:
        raise
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"not valid YAML: {_position(exc)}") from None
    except (ValueError, OverflowError) as exc:
        # e.g. an integer of 100,000 digits (Python refuses to convert it)
        raise YamlLimitError(f"a value cannot be read: {str(exc)[:100]}") from None
    except RecursionError:
        raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep") from None
