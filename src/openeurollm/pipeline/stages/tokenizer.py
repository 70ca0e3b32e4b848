"""tokenizer: mix/train -> tokenizer.json (byte-level BPE), mix/heldout -> fertility.json.

With `tokenizer.aligned_path` (NTREX-style aligned sentence files) the parity rounds are
steered by real parity on the first `aligned_dev_lines` lines and the report measures parity
on the remaining lines, which the rounds never saw. Without it both use held-out text and
proxies (see tokenizer/parity.py and tokenizer/fertility.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from openeurollm.config import Recipe
from openeurollm.data.docstore import read_documents
from openeurollm.io.fileio import write_json
from openeurollm.pipeline.stage import STAGES, Stage, StageContext
from openeurollm.records.tokenizer import TokenizerRecord
from openeurollm.tokenizer.encoder import TextTokenizer
from openeurollm.tokenizer.fertility import REFERENCE, fertility_report
from openeurollm.tokenizer.parity import train_parity_aware
from openeurollm.tokenizer.train import save_tokenizer, special_tokens


def _texts(path: Path) -> Iterator[str]:
    return (doc.text for doc in read_documents(path))


def _lang_files(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.glob("*.parquet")) if not p.name.startswith(".")}


def _aligned_files(recipe: Recipe) -> dict[str, Path]:
    if recipe.tokenizer.aligned_path is None:
        return {}
    folder = recipe.resolve(recipe.tokenizer.aligned_path)
    return {p.stem: p for p in sorted(folder.glob("*.txt"))}


def _read_aligned(
    files: dict[str, Path], langs: list[str], dev_lines: int
) -> tuple[dict[str, list[str]], dict[str, list[str]], bool]:
    """(development lines, report lines, whether they overlap) for languages with a file."""
    wanted = [lang for lang in sorted(set(langs) | {REFERENCE}) if lang in files]
    lines = {lang: files[lang].read_text(encoding="utf-8").splitlines() for lang in wanted}
    if REFERENCE not in lines or len({len(v) for v in lines.values()}) != 1:
        return {}, {}, False  # no English, or not aligned: parity cannot be measured on it
    n = len(lines[REFERENCE])
    if n <= dev_lines:  # too short to split: both use all lines, and the record says so
        return lines, lines, True
    return (
        {lang: v[:dev_lines] for lang, v in lines.items()},
        {lang: v[dev_lines:] for lang, v in lines.items()},
        False,
    )


@STAGES.register("tokenizer")
class TokenizerStage(Stage):
    name = "tokenizer"
    after = ("mix",)

    def config(self, recipe: Recipe) -> dict[str, Any]:
        cfg = recipe.tokenizer.model_dump(mode="json")
        # The aligned files enter the key through their digests, not their path's spelling.
        cfg["aligned_path"] = cfg["aligned_path"] is not None
        return {"tokenizer": cfg}

    def external_inputs(self, recipe: Recipe) -> list[Path]:
        return list(_aligned_files(recipe).values())

    def run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.recipe.tokenizer
        train_files = _lang_files(ctx.input("mix") / "train")
        sources = {lang: partial(_texts, path) for lang, path in train_files.items()}
        heldout = {
            lang: list(_texts(path))
            for lang, path in _lang_files(ctx.input("mix") / "heldout").items()
        }
        dev, report_set, overlap = _read_aligned(
            _aligned_files(ctx.recipe), sorted(sources), cfg.aligned_dev_lines
        )
        result = train_parity_aware(
            sources,
            cfg.vocab_size,
            rounds=cfg.parity_rounds,
            exponent=cfg.parity_exponent,
            aligned=dev or None,
            texts=heldout,
            reserved_special_tokens=cfg.reserved_special_tokens,
            min_frequency=cfg.min_frequency,
            balance=cfg.balance,
            temperature=cfg.temperature,
            max_bytes_per_language=cfg.max_bytes_per_language,
        )
        save_tokenizer(result.tokenizer, ctx.out / "tokenizer.json")
        tok = TextTokenizer(result.tokenizer)

        measured_on = "mix/heldout"
        if report_set:
            measured_on += f"; parity on aligned lines {'all' if overlap else 'after dev lines'}"
        report = fertility_report(tok, heldout, aligned=report_set or None, measured_on=measured_on)
        report["sample_bytes"] = result.sample_bytes
        report["weights"] = result.weights
        report["rounds"] = result.rounds
        write_json(ctx.out / "fertility.json", report)

        summary = report["summary"]
        ctx.log.info(
            "tokenizer: vocab %d, %d languages, %d round(s), parity (%s) worst %s best %s",
            tok.vocab_size,
            len(sources),
            len(result.rounds),
            report["parity_kind"],
            summary["worst"],
            summary["best"],
        )
        record = {
            "vocab_size": tok.vocab_size,
            "special_tokens": special_tokens(cfg.reserved_special_tokens),
            "bos_id": tok.bos_id,
            "eos_id": tok.eos_id,
            "pad_id": tok.pad_id,
            "balance": cfg.balance,
            "languages": sorted(sources),
            "available_bytes": result.sizes,
            "sample_bytes": result.sample_bytes,
            "weights": {lang: round(w, 4) for lang, w in result.weights.items()},
            "parity_rounds": [
                {k: r[k] for k in ("round", "cost_kind", "worst_over_best") if k in r}
                | {"chosen": r.get("chosen", False)}
                for r in result.rounds
            ],
            "parity_kind": report["parity_kind"],
            "aligned_overlap": overlap,
            "fertility": {
                lang: {k: s[k] for k in ("tokens_per_word", "tokens_per_char", "bytes_per_token")}
                for lang, s in report["languages"].items()
            },
            "parity": report["parity"],
            "tokens_per_byte_vs_en": report.get("tokens_per_byte_vs_en"),
            "worst_parity": summary["worst"],
            "best_parity": summary["best"],
            "mean_parity": summary["mean"],
        }
        return TokenizerRecord.model_validate(record).dump()
