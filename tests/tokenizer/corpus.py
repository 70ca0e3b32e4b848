"""A tiny multilingual corpus written for the tests (not taken from the shared data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openeurollm.config import Recipe, recipe_from_dict
from openeurollm.data.docstore import write_documents
from openeurollm.data.document import Document
from openeurollm.pipeline.stage import StageContext
from openeurollm.pipeline.stages.tokenizer import TokenizerStage

PHRASES = {
    "en": ["The weather in the north will be cold tomorrow", "Our library opens at nine"],
    "de": ["Das Wetter im Norden wird morgen kälter", "Die Bücherei öffnet um neun Uhr"],
    "el": ["Ο καιρός στον βορρά θα είναι κρύος αύριο", "Η βιβλιοθήκη ανοίγει στις εννέα"],
    "bg": ["Времето на север утре ще бъде студено", "Библиотеката отваря в девет часа"],
    "ga": ["Beidh an aimsir fuar sa tuaisceart amárach", "Osclaíonn an leabharlann ar a naoi"],
    "mt": [
        "It-temp fit-tramuntana se jkun kiesaħ għada",
        "Il-librerija tiftaħ fid-disgħa ġurnata żgħira",
    ],
}


def documents(lang: str, n: int) -> list[str]:
    """n short documents in `lang`: the phrases with numbers and varied punctuation."""
    a, b = PHRASES[lang]
    return [f"{a} ({i}).\n{b}, {2000 + i}! {a.split()[i % 3]} {i * 7}." for i in range(n)]


def write_mix(run_dir: Path, langs: list[str], n_train: int = 40, n_heldout: int = 3) -> None:
    """A mix stage's output folders: train/<lang>.parquet and heldout/<lang>.parquet."""
    for lang in langs:
        texts = documents(lang, n_train + n_heldout)
        for split, part in (("train", texts[:n_train]), ("heldout", texts[n_train:])):
            write_documents(
                run_dir / "mix" / split / f"{lang}.parquet",
                (
                    Document.new(t, lang=lang, source=f"https://example.org/{lang}/{i}")
                    for i, t in enumerate(part)
                ),
            )


def small_recipe(root: Path, **tokenizer: object) -> Recipe:
    """A recipe whose tokenizer and shards sections run in seconds (one worker: inline)."""
    corpus = root / "in.jsonl"
    corpus.write_text('{"text": "x", "lang": "en"}\n')
    return recipe_from_dict(
        {
            "run": {"root": str(root), "name": "t"},
            "executor": {"workers": 1},
            "ingest": {"inputs": [{"path": str(corpus)}]},
            "curate": {"filters": []},
            "tokenizer": {"vocab_size": 600, "min_frequency": 1, **tokenizer},
        },
        root,
    )


def run_tokenizer_stage(root: Path, langs: list[str], **tokenizer: object) -> dict[str, Any]:
    recipe = small_recipe(root, **tokenizer)
    run_dir = recipe.run_dir
    write_mix(run_dir, langs)
    ctx = StageContext(
        recipe=recipe, run_dir=run_dir, out=run_dir / "tokenizer", key="k", resume=False
    )
    return TokenizerStage().run(ctx)
