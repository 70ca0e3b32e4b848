"""samples.jsonl: greedy continuations from the trained model, per language, of the first words
of held-out documents (never trained on). A tiny full-recompute sampler: a release-time
sample of a few dozen tokens does not need a KV cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openeurollm.io.fileio import atomic_open

PROMPT_WORDS = 8


def _prompts(heldout: Path, per_language: int) -> list[tuple[str, str, str]]:
    """(language, document id, prompt) for the first held-out documents of each language."""
    from openeurollm.data.docstore import read_documents

    out = []
    for path in sorted(heldout.glob("*.parquet")):
        if path.name.startswith("."):
            continue
        for n, doc in enumerate(read_documents(path)):
            if n >= per_language:
                break
            out.append((path.stem, doc.id, " ".join(doc.text.split()[:PROMPT_WORDS])))
    return out


def greedy(
    model: Any, prompt_ids: list[int], new_tokens: int, eos_id: int | None, window: int
) -> list[int]:
    import torch

    ids = list(prompt_ids)
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model(torch.tensor([ids[-window:]], dtype=torch.long))
            nxt = int(logits[0, -1].argmax())
            if nxt == eos_id:
                break
            ids.append(nxt)
    return ids[len(prompt_ids) :]


def write_samples(
    out: Path, run_dir: Path, per_language: int, new_tokens: int, window: int
) -> dict[str, Any]:
    """Write samples.jsonl; returns {"file", "languages", "samples"}."""
    from openeurollm.eval.loading import load_trained
    from openeurollm.tokenizer.encoder import TextTokenizer

    tok = TextTokenizer.from_file(run_dir / "tokenizer" / "tokenizer.json")
    model = load_trained(run_dir / "train").eval()
    prompts = _prompts(run_dir / "mix" / "heldout", per_language)
    langs = set()
    with atomic_open(out / "samples.jsonl") as fh:
        for lang, doc_id, prompt in prompts:
            # Training saw documents separated by eos (no bos), so eos starts a document.
            ids = [tok.eos_id, *tok.encode(prompt)]
            new = greedy(model, ids, new_tokens, tok.eos_id, window)
            row = {"language": lang, "heldout_doc": doc_id, "prompt": prompt,
                   "output": tok.decode(new, skip_special_tokens=True),
                   "decoding": f"greedy, at most {new_tokens} new tokens"}  # fmt: skip
            fh.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
            langs.add(lang)
    return {"file": "samples.jsonl", "languages": sorted(langs), "samples": len(prompts)}
