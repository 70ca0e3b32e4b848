"""Few-shot contexts: k solved examples before the item, chosen with a seed derived from the
task, language and item id, so an item's examples never depend on which other items run."""

from __future__ import annotations

import random
from collections.abc import Sequence

from openeurollm.eval.tasks.formats import Item
from openeurollm.eval.tasks.template import TaskTemplate


def with_fewshot(
    template: TaskTemplate,
    prompt: str,
    item: Item,
    lang: str,
    pool_items: Sequence[Item],
    num_fewshot: int,
    seed: int,
    task_name: str,
) -> str:
    """The item's full context: description, examples (never the item itself), prompt."""
    parts = []
    if num_fewshot:
        candidates = [p for p in pool_items if str(p["id"]) != str(item["id"])]
        rng = random.Random(f"{seed}/{task_name}/{lang}/{item['id']}")
        chosen = rng.sample(candidates, min(num_fewshot, len(candidates)))
        parts = [
            template.render_prompt(ex, lang) + template.target_delimiter + template.answer_of(ex)
            for ex in chosen
        ]
    context = template.fewshot_delimiter.join([*parts, prompt])
    return template.description + context if template.description else context
