"""Multiple-choice log-likelihood tasks, generated per language from one template.

Each item becomes a context (optional description, k few-shot examples chosen with a seed
derived from the task, language and item id, then the item's prompt) and one continuation
per choice (`target_delimiter + choice`). The model's choice is the highest summed
log-likelihood (acc) or the highest log-likelihood per character of the choice (acc_norm),
the same definitions as lm-evaluation-harness.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeurollm.eval.metrics import mean_with_ci
from openeurollm.eval.scorer import Scorer, split_pair_tokens
from openeurollm.eval.tasks.fewshot import FewshotSampler, with_fewshot
from openeurollm.eval.tasks.formats import FORMATS, Item, languages_in
from openeurollm.eval.tasks.generative import GenInstance, build_gen_instances, task_items
from openeurollm.eval.tasks.template import TaskTemplate, load_template

__all__ = [
    "GenInstance",
    "MCInstance",
    "TaskTemplate",
    "build_instances",
    "languages_in",
    "load_task",
    "load_template",
    "score_instances",
    "summarize",
    "task_texts",
]


@dataclass(frozen=True)
class MCInstance:
    id: str
    lang: str
    context: str
    choices: tuple[str, ...]  # choice texts, without the delimiter
    gold: int
    target_delimiter: str = " "

    @property
    def continuations(self) -> list[str]:
        return [self.target_delimiter + c for c in self.choices]


def build_instances(
    template: TaskTemplate,
    items: Sequence[Item],
    lang: str,
    num_fewshot: int = 0,
    pool: Sequence[Item] | None = None,
    seed: int = 1234,
    skipped: Counter | None = None,
    limit: int | None = None,
) -> list[MCInstance]:
    """Instances for one language. `pool`: few-shot candidates from another split (default:
    `items` themselves, never the item itself); chosen as eval/tasks/fewshot.py says."""
    skipped = skipped if skipped is not None else Counter()
    sampler = FewshotSampler(pool if pool is not None else items, seed, pool is None)
    out = []
    # `limit` keeps a prefix of the items; the pool stays the whole split (as in lm-eval)
    for item in items[:limit] if limit is not None else items:
        try:
            prompt = template.render_prompt(item, lang)
            choices = tuple(template.choices_of(item))
            gold = template.gold_of(item)
        except (KeyError, ValueError, IndexError, TypeError):
            skipped["bad_item"] += 1
            continue
        context = with_fewshot(template, prompt, lang, sampler.sample(item, num_fewshot))
        out.append(
            MCInstance(
                id=str(item["id"]),
                lang=lang,
                context=context,
                choices=choices,
                gold=gold,
                target_delimiter=template.target_delimiter,
            )
        )
    return out


def load_task(
    template: TaskTemplate,
    path: Path,
    languages: Sequence[str],
    num_fewshot: int = 0,
    seed: int = 1234,
    limit: int | None = None,
) -> tuple[dict[str, list[Any]], dict[str, int]]:
    """Instances per language (languages without data are left out) and skip counts.
    Generative templates give GenInstances, keyed by language or translation direction."""
    skipped: Counter = Counter()
    build = build_gen_instances if template.output_type == "generate_until" else build_instances
    out: dict[str, list[Any]] = {}
    for key, (items, pool) in task_items(template, path, languages, num_fewshot, skipped).items():
        inst = build(template, items, key, num_fewshot, pool, seed, skipped, limit)  # type: ignore[arg-type]
        if inst:
            out[key] = inst
    return out, dict(skipped)


def task_texts(
    template: TaskTemplate, path: Path, languages: Sequence[str] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """(item id, its texts) of every evaluated item, for benchmark decontamination: the
    item's text fields and its choices, without the template's scaffolding."""
    reader = FORMATS.get(template.format)
    available = languages_in(template.format, path)
    for lang in sorted(available if languages is None else set(languages) & available):
        for item in reader(path, lang, template.split, Counter()):
            texts = [v for k, v in item.items() if isinstance(v, str) and k not in ("id", "lang")]
            texts += [str(c) for c in item.get("choices", []) if isinstance(c, str)]
            yield f"{lang}:{item['id']}", texts


def score_instances(
    scorer: Scorer,
    encode_batch: Callable[[list[str]], list[list[int]]],
    instances: Sequence[MCInstance],
    empty_context_id: int,
    desc: str = "mc",
    token_counts: list[list[int]] | None = None,
) -> list[list[float]]:
    """Log-likelihood of every choice of every instance, all scored in shared batches.
    `token_counts`, when given, receives each choice's number of scored tokens."""
    pairs = [(inst.context, cont) for inst in instances for cont in inst.continuations]
    requests = split_pair_tokens(encode_batch, pairs, empty_context_id)
    # The choices of one item share its context tokens: score them in one shared pass.
    groups, i = [], 0
    for inst in instances:
        k = len(inst.choices)
        reqs = requests[i : i + k]
        ctx = reqs[0][0][: len(reqs[0][0]) - reqs[0][1]]
        groups.append((ctx, [tokens[len(tokens) - n :] for tokens, n in reqs]))
        if token_counts is not None:
            token_counts.append([n for _, n in reqs])
        i += k
    scores = scorer.score_choices(groups, desc=desc)
    return [[s.logprob for s in group] for group in scores]


def _first_argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=lambda j: (values[j], -j))


# Headline metric per normalization of the summed log-likelihood: none (lm-eval `acc`), by
# characters of the choice (lm-eval `acc_norm`, lighteval "char"), by its UTF-8 bytes
# (lm-eval `acc_bytes`), by its tokens (lighteval "token").
NORMALIZED_METRICS = {
    "none": "acc",
    "chars": "acc_norm",
    "bytes": "acc_bytes",
    "tokens": "acc_tokens",
}


def summarize(
    instances: Sequence[MCInstance],
    lls: Sequence[Sequence[float]],
    token_counts: Sequence[Sequence[int]] | None = None,
    normalization: str = "none",
) -> dict[str, dict[str, Any]]:
    """Per language: accuracy under every normalization with its standard error, the chance
    level (mean of 1/choices), and the headline `value` (the chosen normalization) with its
    95% interval (analytic, eval/metrics.py)."""
    hits: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    chance: dict[str, list[float]] = defaultdict(list)
    counts = token_counts if token_counts is not None else [None] * len(instances)
    for inst, ll, ntok in zip(instances, lls, counts, strict=True):
        divisors = {
            "acc": [1] * len(ll),
            "acc_norm": [max(len(c), 1) for c in inst.choices],
            "acc_bytes": [max(len(c.encode("utf-8")), 1) for c in inst.choices],
        }
        if ntok is not None:
            divisors["acc_tokens"] = [max(n, 1) for n in ntok]
        for metric, div in divisors.items():
            pick = _first_argmax([v / d for v, d in zip(ll, div, strict=True)])
            hits[inst.lang][metric].append(float(pick == inst.gold))
        chance[inst.lang].append(1 / len(inst.choices))
    headline = NORMALIZED_METRICS[normalization]
    out = {}
    for lang in sorted(hits):
        entry: dict[str, Any] = {}
        for metric, values in hits[lang].items():
            stats = mean_with_ci(values)
            entry[metric] = stats["value"]
            entry[f"{metric}_stderr"] = stats["stderr"]  # None below 2 items (JSON has no NaN)
        head = mean_with_ci(hits[lang][headline]) if headline in hits[lang] else None
        if head is None:
            raise ValueError(f"normalization {normalization!r} needs token counts")
        entry.update(metric=headline, **head)
        entry["chance"] = sum(chance[lang]) / len(chance[lang])
        out[lang] = entry
    return out
