"""A task template: one YAML file that defines a task for every language.

Fields: name, format (a reader in formats.py), split / fewshot_split, prompt (a Python
format string over the item's fields), optional prompt_by_language (overrides per
language), and the delimiters between answer and prompt and between few-shot examples.

Multiple choice (`output_type: multiple_choice`): optional fixed `choices` with
`answer_field` (the gold label's field). Generation (`output_type: generate_until`):
`target` (format string of the reference answer), `until` (stop sequences), `max_gen_toks`,
`metric` (chrf++ or exact_match) and, for translation, `pair_with`: the language every other
one is paired with, both directions (the evaluation keys are then "en-de" and "de-en").
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from openeurollm.errors import RecipeError

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class TaskTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    format: str = "mc_jsonl"
    split: str | None = None
    fewshot_split: str | None = None  # None: examples come from the evaluated split itself
    prompt: str
    prompt_by_language: dict[str, str] = {}
    choices: list[str] | None = None
    answer_field: str | None = None
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"
    description: str = ""
    output_type: Literal["multiple_choice", "generate_until"] = "multiple_choice"
    target: str | None = None
    until: list[str] = ["\n"]
    max_gen_toks: int = Field(64, ge=1)
    metric: Literal["chrf++", "exact_match"] = "exact_match"
    pair_with: str | None = None
    # Few-shot examples show this instead of `target` (GSM8K: the worked solution).
    fewshot_target: str | None = None
    # A regex whose first group is the answer in the generation (else "[invalid]").
    extract: str | None = None
    # cloze: the choices' texts are scored; lettered: the prompt lists the choices as
    # "A. ..." lines at its {options} field and the letters are scored.
    formulation: Literal["cloze", "lettered"] = "cloze"
    # Which accuracy is the headline: summed log-likelihood (none) or divided by the
    # choice's characters, UTF-8 bytes or tokens (all four are always recorded).
    normalization: Literal["none", "chars", "bytes", "tokens"] = "none"

    @model_validator(mode="after")
    def _generation_needs_a_target(self) -> TaskTemplate:
        if self.output_type == "generate_until" and not self.target:
            raise ValueError("a generate_until template needs `target`")
        return self

    def prompt_for(self, lang: str) -> str:
        return self.prompt_by_language.get(lang, self.prompt)

    def texts_of(self, item: dict[str, Any]) -> list[str]:
        return list(self.choices) if self.choices is not None else list(item["choices"])

    def choices_of(self, item: dict[str, Any]) -> list[str]:
        """What is scored: the choices' texts (cloze) or their letters (lettered)."""
        texts = self.texts_of(item)
        return list(LETTERS[: len(texts)]) if self.formulation == "lettered" else texts

    def full_prompt(self, lang: str) -> str:
        """The prompt format string; a lettered one always has an {options} field (placed
        before its last line, the cue, when the template does not place it)."""
        prompt = self.prompt_for(lang)
        if self.formulation == "lettered" and "{options}" not in prompt:
            head, sep, cue = prompt.rpartition("\n")
            prompt = f"{head}{sep}{{options}}{cue}"
        return prompt

    def render_prompt(self, item: dict[str, Any], lang: str) -> str:
        """The item's prompt; {options} is the lettered list of choices, or empty (cloze)."""
        options = ""
        if self.formulation == "lettered":
            options = "".join(f"{LETTERS[i]}. {t}\n" for i, t in enumerate(self.texts_of(item)))
        return self.full_prompt(lang).format(**{**item, "options": options})

    def answer_of(self, item: dict[str, Any]) -> str:
        """The answer text a few-shot example shows (a choice, or the reference)."""
        if self.output_type == "generate_until":
            return str(self.fewshot_target or self.target).format(**item)
        return self.choices_of(item)[self.gold_of(item)]

    def gold_of(self, item: dict[str, Any]) -> int:
        if self.choices is not None and self.answer_field:
            value = item[self.answer_field]
            # a label's text, or its index (XNLI's 0/1/2)
            return value if isinstance(value, int) else self.choices.index(value)
        return int(item["answer"])

    def reference_of(self, item: dict[str, Any]) -> str:
        """The reference a generation is scored against."""
        return str(self.target).format(**item)


def builtin_templates() -> list[str]:
    folder = resources.files("openeurollm.eval.tasks") / "templates"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_template(name_or_path: str, base_dir: Path | None = None) -> TaskTemplate:
    """A built-in template by name (`sib200`, `mc_jsonl`) or a YAML file path."""
    if name_or_path in builtin_templates():
        text = (
            resources.files("openeurollm.eval.tasks") / "templates" / f"{name_or_path}.yaml"
        ).read_text(encoding="utf-8")
        where = f"built-in template {name_or_path!r}"
    else:
        path = Path(name_or_path)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        if not path.is_file():
            raise RecipeError(
                f"task template {name_or_path!r} is neither built in "
                f"({', '.join(builtin_templates())}) nor a file"
            )
        text, where = path.read_text(encoding="utf-8"), str(path)
    try:
        return TaskTemplate.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise RecipeError(f"{where}: invalid task template: {exc}") from None
