from __future__ import annotations

from pathlib import Path

import pytest

from openeurollm.config import apply_override, load_recipe, recipe_from_dict
from openeurollm.errors import RecipeError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    (tmp_path / "docs.jsonl").write_text('{"text": "hello"}\n', encoding="utf-8")
    return tmp_path


def test_minimal_recipe_gets_defaults_that_run(corpus: Path) -> None:
    recipe = recipe_from_dict({"ingest": {"inputs": [{"path": "docs.jsonl"}]}}, corpus)
    assert recipe.train.lr > 0
    assert len(recipe.curate.languages) == 24
    assert recipe.resolve("docs.jsonl") == (corpus / "docs.jsonl").resolve()


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ("train: {lr: -0.1}", "train.lr", "greater than 0"),
        ("train: {steps: many}", "train.steps", "valid integer"),
        ("train: {stesp: 3}", "train.stesp", "did you mean 'steps'"),
        ("executor: {kind: kubernetes}", "executor.kind", "'local' or 'slurm'"),
        ("model: {flavor: debgu}", "model.flavor", "did you mean 'debug'"),
        ("curate: {languages: [de, xx]}", "curate.languages", "unknown language 'xx'"),
        (
            "curate: {filters: [{name: gopher_qualty}]}",
            "curate.filters[0].name",
            "did you mean 'gopher_quality'",
        ),
    ],
)
def test_bad_values_name_the_field(corpus: Path, body: str, field: str, detail: str) -> None:
    path = _write(corpus / "r.yaml", "ingest: {inputs: [{path: docs.jsonl}]}\n" + body + "\n")
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    message = str(err.value)
    assert message.startswith(f"invalid recipe: {field}:"), message
    assert detail in message, message


def test_batch_that_does_not_split_over_slurm_ranks_names_the_fields(corpus: Path) -> None:
    path = _write(
        corpus / "r.yaml",
        "ingest: {inputs: [{path: docs.jsonl}]}\n"
        "executor: {kind: slurm, slurm: {nodes: 2, gpus_per_node: 4}}\ntrain: {batch_size: 12}\n",
    )
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    # A check across sections: the message itself names the fields, no location prefix.
    assert str(err.value) == (
        "invalid recipe: train.batch_size (12) must be divisible by the Slurm training ranks "
        "x grad_accum (2 node(s) x 4 process(es) x 1)"
    )


def test_flavor_names_ignore_case(corpus: Path) -> None:
    recipe = recipe_from_dict(
        {"ingest": {"inputs": [{"path": "docs.jsonl"}]}, "model": {"flavor": "1b"}}, corpus
    )
    assert recipe.model.flavor == "1B"


def test_missing_input_names_the_path(corpus: Path) -> None:
    path = _write(corpus / "r.yaml", "ingest: {inputs: [{path: nowhere/*.jsonl}]}\n")
    with pytest.raises(RecipeError, match=r"ingest\.inputs\[0\]\.path: no file matches .*nowhere"):
        load_recipe(path)


def test_overrides_are_parsed_as_yaml_values(corpus: Path) -> None:
    path = _write(corpus / "r.yaml", "ingest: {inputs: [{path: docs.jsonl}]}\n")
    recipe = load_recipe(path, ["train.lr=3e-4", "train.compile=true", "curate.languages=[de, fr]"])
    assert recipe.train.lr == pytest.approx(3e-4)
    assert recipe.train.compile is True
    assert recipe.curate.languages == ["de", "fr"]
    with pytest.raises(RecipeError, match="key=value"):
        apply_override({}, "train.lr")


def test_includes_merge_under_the_including_file(corpus: Path) -> None:
    _write(corpus / "cluster.yaml", "executor: {workers: 7}\ntrain: {steps: 5, lr: 0.5}\n")
    path = _write(
        corpus / "r.yaml",
        "include: cluster.yaml\ningest: {inputs: [{path: docs.jsonl}]}\ntrain: {steps: 9}\n",
    )
    recipe = load_recipe(path)
    assert recipe.executor.workers == 7
    assert recipe.train.steps == 9  # the including file wins
    assert recipe.train.lr == 0.5


def test_included_paths_stay_relative_to_the_included_file(tmp_path: Path) -> None:
    base = tmp_path / "shared" / "base"
    (base / "data").mkdir(parents=True)
    for name in ("docs.jsonl", "optout.txt", "mc.jsonl"):
        _write(base / "data" / name, "")
    _write(base / "my_task.yaml", "")
    absolute = str((base / "data" / "mc.jsonl").resolve())
    _write(
        base / "base.yaml",
        "ingest: {inputs: [{path: data/*.jsonl}]}\n"
        "curate: {optout: {domain_lists: [data/optout.txt]}}\n"
        "eval: {tasks: [{name: a, path: data/mc.jsonl, template: sib200},\n"
        "  {name: b, path: data/mc.jsonl, template: my_task.yaml},\n"
        f"  {{name: c, path: '{absolute}'}}]}}\n",
    )
    top = tmp_path / "runs" / "mine"
    top.mkdir(parents=True)
    recipe = load_recipe(_write(top / "r.yaml", "include: ../../shared/base/base.yaml\n"))

    spec = recipe.ingest.inputs[0]
    assert recipe.resolve(spec.path) == (base / "data" / "*.jsonl").resolve()
    assert not Path(spec.path).is_absolute()  # relative: the config hash survives a move
    optout = recipe.curate.optout.domain_lists[0]
    assert recipe.resolve(optout) == (base / "data" / "optout.txt").resolve()
    a, b, c = recipe.eval.tasks
    assert recipe.resolve(a.path) == (base / "data" / "mc.jsonl").resolve()
    assert a.template == "sib200"  # a built-in name is not a path
    assert recipe.resolve(b.template) == (base / "my_task.yaml").resolve()
    assert c.path == absolute


def test_include_cycle_and_bad_yaml_are_recipe_errors(corpus: Path) -> None:
    _write(corpus / "a.yaml", "include: b.yaml\n")
    _write(corpus / "b.yaml", "include: a.yaml\n")
    with pytest.raises(RecipeError, match="include cycle"):
        load_recipe(corpus / "a.yaml")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(_write(corpus / "bad.yaml", "train: [unclosed\n"))
    with pytest.raises(RecipeError, match="must be a mapping"):
        load_recipe(_write(corpus / "list.yaml", "- a\n- b\n"))


def test_every_listed_path_field_exists_in_the_schema() -> None:
    """The rebasing table names schema fields; a renamed field must not silently drop out."""
    import typing

    from pydantic import BaseModel

    from openeurollm.config import _PATH_FIELDS, Recipe

    for parts in _PATH_FIELDS:
        node: typing.Any = Recipe
        for part in parts:
            if part == "*":
                (node,) = typing.get_args(node)
                continue
            assert isinstance(node, type) and issubclass(node, BaseModel), parts
            assert part in node.model_fields, f"{'.'.join(parts)}: no field {part!r}"
            node = node.model_fields[part].annotation
        assert str in {node, *typing.get_args(node)}, f"{'.'.join(parts)} is not a string"
