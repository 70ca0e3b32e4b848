"""Few-shot contexts: k solved examples before the item, chosen the way lm-evaluation-harness's
default sampler chooses them, so that lm-eval given our task YAML (fewshot_split,
num_fewshot, the same seed) builds the very same contexts itself.

The rule, per task and language: one `random.Random(seed)`; for each evaluated item in
order, draw k examples from the pool (the fewshot split, in file order) with
`rng.sample`; when the pool is the evaluated split itself, draw k + 1 and drop the item, so
an item never shows its own answer. An item's examples therefore depend on its position in
the evaluated split (and `limit` keeps a prefix: the first items get the same examples).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from openeurollm.eval.tasks.formats import Item
from openeurollm.eval.tasks.template import TaskTemplate


class FewshotSampler:
    def __init__(self, pool: Sequence[Item], seed: int, same_split: bool) -> None:
        self.pool = list(pool)
        self.rng = random.Random(seed)
        self.same_split = same_split

    def sample(self, item: Item, k: int) -> list[Item]:
        if k <= 0 or not self.pool:
            return []
        if self.same_split:
            drawn = self.rng.sample(self.pool, min(k + 1, len(self.pool)))
            return [x for x in drawn if x != item][:k]
        return self.rng.sample(self.pool, min(k, len(self.pool)))


def with_fewshot(template: TaskTemplate, prompt: str, lang: str, examples: Sequence[Item]) -> str:
    """The item's full context: description, solved examples, then its prompt."""
    parts = [
        template.render_prompt(ex, lang) + template.target_delimiter + template.answer_of(ex)
        for ex in examples
    ]
    context = template.fewshot_delimiter.join([*parts, prompt])
    return template.description + context if template.description else context
