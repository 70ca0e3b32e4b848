"""Decontamination: drop training documents that share a word n-gram with an eval set.

Eval items are JSONL (id, lang, question, choices, answer). We index the n-grams of each
question, and of the question followed by its correct answer. An item shorter than n
words contributes its whole word sequence as one shorter "n-gram" (as GPT-3's
decontamination did), provided it has at least `min_words` words, so that short
questions are still protected without matching on common phrases.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from openeurollm.data.text import words


def _tokens(text: str) -> list[str]:
    return [w.casefold() for w in words(text)]


@dataclass(frozen=True)
class Match:
    task: str
    item: str


class Decontaminator:
    def __init__(self, n: int = 13, min_words: int = 8) -> None:
        self.n = n
        self.min_words = min_words
        # Keys are word tuples: the index lives in the process that queries it.
        self._grams: dict[tuple[str, ...], Match] = {}
        self._short_lengths: set[int] = set()
        self.items = 0

    def add_item(self, task: str, item_id: str, texts: Iterable[str]) -> None:
        self.items += 1
        for text in texts:
            toks = _tokens(text)
            if len(toks) >= self.n:
                for i in range(len(toks) - self.n + 1):
                    self._grams.setdefault(tuple(toks[i : i + self.n]), Match(task, item_id))
            elif len(toks) >= self.min_words:
                self._short_lengths.add(len(toks))
                self._grams.setdefault(tuple(toks), Match(task, item_id))

    def add_jsonl(self, task: str, path: Path) -> None:
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                item = json.loads(line)
                question = str(item.get("question", ""))
                texts = [question]
                choices = item.get("choices") or []
                answer = item.get("answer")
                if isinstance(answer, int) and 0 <= answer < len(choices):
                    texts.append(f"{question} {choices[answer]}")
                elif isinstance(answer, str):
                    texts.append(f"{question} {answer}")
                self.add_item(task, str(item.get("id", f"{path.name}:{lineno}")), texts)

    def add_task(self, task: str, template: str, path: Path, base_dir: Path) -> None:
        """Any eval task format through the eval package's own reader: multiple choice and
        generative tasks alike (translation sentences, QA and maths questions with their
        answers, the published suites); the generic JSONL format keeps its question+answer
        n-grams."""
        if template == "mc_jsonl" and path.is_file():
            self.add_jsonl(task, path)
            return
        from openeurollm.eval.tasks import load_template, task_texts

        for item_id, texts in task_texts(load_template(template, base_dir), path):
            self.add_item(task, item_id, texts)

    def __len__(self) -> int:
        return len(self._grams)

    def find(self, text: str) -> Match | None:
        """The first eval item that `text` shares an n-gram with, or None."""
        if not self._grams:
            return None
        toks = _tokens(text)
        for size in (self.n, *sorted(self._short_lengths)):
            for i in range(len(toks) - size + 1):
                hit = self._grams.get(tuple(toks[i : i + size]))
                if hit is not None:
                    return hit
        return None
