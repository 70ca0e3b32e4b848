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


def test_include_cycle_and_bad_yaml_are_recipe_errors(corpus: Path) -> None:
    _write(corpus / "a.yaml", "include: b.yaml\n")
    _write(corpus / "b.yaml", "include: a.yaml\n")
    with pytest.raises(RecipeError, match="include cycle"):
        load_recipe(corpus / "a.yaml")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(_write(corpus / "bad.yaml", "train: [unclosed\n"))
    with pytest.raises(RecipeError, match="must be a mapping"):
        load_recipe(_write(corpus / "list.yaml", "- a\n- b\n"))
