"""Generative (`generate_until`) tasks: translation between English and every other language
on aligned sentence files, short-answer QA; each scored on the generated text.

A translation template (`pair_with: en`) turns the aligned files of English and language X
into two evaluation keys, "en-X" and "X-en"; line i of one file is the reference of line i of
the other. The generation is cut at the template's stop sequences and scored with corpus
chrF++ or exact match after normalization (eval/metrics.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeurollm.errors import InputError
from openeurollm.eval.metrics import chrf_pp_with_ci, exact_match, mean_with_ci
from openeurollm.eval.tasks.fewshot import FewshotSampler, with_fewshot
from openeurollm.eval.tasks.formats import FORMATS, Item, languages_in
from openeurollm.eval.tasks.languages import language_name
from openeurollm.eval.tasks.template import TaskTemplate


@dataclass(frozen=True)
class GenInstance:
    id: str
    lang: str  # the evaluation key: a language, or a translation direction "en-de"
    context: str
    reference: str


def build_gen_instances(
    template: TaskTemplate,
    items: Sequence[Item],
    key: str,
    num_fewshot: int = 0,
    pool: Sequence[Item] | None = None,
    seed: int = 1234,
    skipped: Counter | None = None,
    limit: int | None = None,
) -> list[GenInstance]:
    skipped = skipped if skipped is not None else Counter()
    sampler = FewshotSampler(pool if pool is not None else items, seed, pool is None)
    out = []
    # `limit` keeps a prefix of the items; the pool stays the whole split (as in lm-eval)
    for item in items[:limit] if limit is not None else items:
        try:
            prompt = template.render_prompt(item, key)
            reference = template.reference_of(item)
        except (KeyError, ValueError, IndexError, TypeError):
            skipped["bad_item"] += 1
            continue
        context = with_fewshot(template, prompt, key, sampler.sample(item, num_fewshot))
        out.append(GenInstance(str(item["id"]), key, context, reference))
    return out


def translation_pairs(
    reader: Callable[..., list[Item]], path: Path, pivot: str, lang: str, split: str | None
) -> dict[str, list[Item]]:
    """Both directions between `pivot` and `lang`, aligned by item id."""
    a, b = reader(path, pivot, split, Counter()), reader(path, lang, split, Counter())
    by_id = {it["id"]: it for it in b}
    if len(a) != len(b) or any(it["id"] not in by_id for it in a):
        raise InputError(
            f"{path}: {pivot} and {lang} are not aligned ({len(a)} and {len(b)} sentences)"
        )
    out: dict[str, list[Item]] = {f"{pivot}-{lang}": [], f"{lang}-{pivot}": []}
    for src_item in a:
        tgt_item = by_id[src_item["id"]]
        for (s_lang, s), (t_lang, t) in (
            ((pivot, src_item), (lang, tgt_item)),
            ((lang, tgt_item), (pivot, src_item)),
        ):
            out[f"{s_lang}-{t_lang}"].append(
                {"id": src_item["id"], "source": s["text"], "target": t["text"],
                 "source_language": language_name(s_lang),
                 "target_language": language_name(t_lang)}
            )  # fmt: skip
    return out


def task_items(
    template: TaskTemplate,
    path: Path,
    languages: Sequence[str],
    num_fewshot: int = 0,
    skipped: Counter | None = None,
) -> dict[str, tuple[list[Item], list[Item] | None]]:
    """Per evaluation key: the evaluated split's items and the few-shot pool (None: the
    evaluated split itself). Languages without data are left out. Translation templates
    pair every language with `pair_with`, both directions."""
    reader = FORMATS.get(template.format)
    available = languages_in(template.format, path)
    skipped = skipped if skipped is not None else Counter()
    want_pool = bool(template.fewshot_split and num_fewshot)
    out: dict[str, tuple[list[Item], list[Item] | None]] = {}
    for lang in languages:
        if lang not in available:
            continue
        if template.pair_with:
            pivot = template.pair_with
            if lang == pivot or pivot not in available:
                continue
            keyed = translation_pairs(reader, path, pivot, lang, template.split)
            pools = (
                translation_pairs(reader, path, pivot, lang, template.fewshot_split)
                if want_pool
                else {}
            )
        else:
            keyed = {lang: reader(path, lang, template.split, skipped)}
            pools = (
                {lang: reader(path, lang, template.fewshot_split, Counter())} if want_pool else {}
            )
        for key, items in keyed.items():
            out[key] = (items, pools.get(key))
    return out


def extract_answer(pattern: str, text: str) -> str:
    """The first match's first group (the whole match without groups), or "[invalid]"
    (lm-eval's regex filter with take_first)."""
    match = re.search(pattern, text)
    if match is None:
        return "[invalid]"
    return match.group(1) if match.groups() else match.group(0)


def score_generations(
    template: TaskTemplate, instances: Sequence[GenInstance], generations: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per evaluation key: the metric with its 95% CI, and n."""
    by_key: dict[str, tuple[list[str], list[str]]] = {}
    if template.extract:
        generations = [extract_answer(template.extract, g) for g in generations]
    for inst, text in zip(instances, generations, strict=True):
        preds, refs = by_key.setdefault(inst.lang, ([], []))
        preds.append(text)
        refs.append(inst.reference)
    out = {}
    for key, (preds, refs) in sorted(by_key.items()):
        if template.metric == "chrf++":
            stats = chrf_pp_with_ci(preds, refs)
        else:
            stats = mean_with_ci(exact_match(preds, refs))
        out[key] = {"metric": template.metric, **stats}
    return out
