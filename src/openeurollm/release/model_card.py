"""README.md: the Hugging Face model card, with YAML metadata, generated from the records."""

from __future__ import annotations

from typing import Any

import yaml

from openeurollm.escape import markdown_text as md
from openeurollm.release.facts import MISSING, NOT_RECORDED, Facts, fmt

# Licence ids the Hub accepts in `license:` (lower-case SPDX); anything else is `other`.
HUB_LICENSES = {
    "apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0",
    "cc-by-nc-4.0", "gpl-3.0", "lgpl-3.0", "agpl-3.0", "mpl-2.0", "openrail", "llama3", "gemma",
    "cdla-permissive-2.0", "odc-by", "pddl", "unlicense", "eupl-1.2",
}  # fmt: skip

DOCUMENTS = [
    ("Datasheet for the training data", "datasheet.md"),
    ("Croissant metadata of the training data", "croissant.json"),
    ("Public summary of training content (AI Act Art. 53(1)(d))", "training_content_summary.md"),
    ("Technical documentation (AI Act Annex XI)", "technical_documentation.md"),
    ("Information for downstream providers (AI Act Annex XII)", "downstream_information.md"),
    ("Copyright policy (AI Act Art. 53(1)(c))", "copyright_policy.md"),
    ("Model Documentation Form (GPAI Code of Practice)", "model_documentation_form.md"),
    ("Model Openness Framework self-assessment", "model_openness.yaml"),
    ("Evaluation results (all metrics, all sources)", "eval_results.json"),
    ("Membership index (was a URL or text in the training data?)", "membership.json"),
    (
        "Provenance statement (in-toto, SLSA): what the release was built from",
        "provenance.intoto.json",
    ),
    ("Checksums of every file", "SHA256SUMS"),
]


def table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return f"_{NOT_RECORDED}_\n"
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        # every cell is shown as text: a hostname or source name may hold | * [ ] < >
        cells = (md(c if isinstance(c, str) else fmt(c)) for c in row)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _license_meta(spdx: str) -> dict[str, str]:
    if spdx.lower() in HUB_LICENSES:
        return {"license": spdx.lower()}
    return {"license": "other", "license_name": spdx}


def model_index(f: Facts) -> list[dict[str, Any]]:
    """`model-index` entries: MC task accuracy per language, held-out bits per byte."""
    results = []
    for task, body in sorted((f.rec("eval", "tasks") or {}).items()):
        for lang, s in sorted(body.get("per_language", {}).items()):
            metrics = [
                {"type": kind, "name": key, "value": round(float(s[key]), 4)}
                for key, kind in (("acc", "accuracy"), ("acc_norm", "acc_norm"))
                if s.get(key) is not None
            ]
            if not metrics:
                continue
            results.append(
                {
                    "task": {
                        "type": "multiple-choice",
                        "name": f"{task} ({body.get('source', '?')})",
                    },
                    "dataset": {
                        "type": body.get("template") or task,
                        "name": f"{task} {lang}",
                        "config": lang,
                    },
                    "metrics": metrics,
                }
            )
    for lang, value in sorted((f.rec("eval", "bpb") or {}).items()):
        results.append(
            {
                "task": {"type": "text-generation", "name": "held-out bits per byte"},
                "dataset": {"type": "heldout", "name": f"held-out text {lang}", "config": lang},
                "metrics": [
                    {"type": "bits_per_byte", "name": "bpb", "value": round(float(value), 4)}
                ],
            }
        )
    return [{"name": f.cfg.model_name, "results": results}] if results else []


def front_matter(f: Facts) -> str:
    meta: dict[str, Any] = {}
    if f.languages():
        meta["language"] = f.languages()
    meta.update(_license_meta(f.cfg.license))
    meta["library_name"] = "transformers"
    meta["pipeline_tag"] = "text-generation"
    meta["tags"] = ["openeurollm", "multilingual", "eu-ai-act-documentation"]
    if f.cfg.hub_dataset_ids:
        meta["datasets"] = list(f.cfg.hub_dataset_ids)
    index = model_index(f)
    if index:
        meta["model-index"] = index
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def architecture_line(f: Facts) -> str:
    m = f.rec("train", "model")
    if not m:
        return NOT_RECORDED
    kind = "Qwen3-style (QK-norm)" if m.get("qk_norm") else "Llama-style"
    return (
        f"{kind} decoder-only transformer: {fmt(m.get('n_layers'))} layers, width {fmt(m.get('dim'))}, "
        f"{fmt(m.get('n_heads'))} attention heads ({fmt(m.get('n_kv_heads'))} key/value heads), "
        f"SwiGLU feed-forward {fmt(m.get('ffn_dim'))}, RoPE (theta {fmt(m.get('rope_theta'))}), "
        f"RMSNorm, vocabulary {fmt(m.get('vocab_size'))}, "
        f"{'tied' if m.get('tie_embeddings') else 'separate'} input/output embeddings"
    )


def eval_tables(f: Facts) -> str:
    out = []
    bpb, ppl = f.rec("eval", "bpb") or {}, f.rec("eval", "perplexity") or {}
    held = f.rec("eval", "heldout") or {}
    rows = [
        [lang, bpb[lang], ppl.get(lang, MISSING), held.get(lang, {}).get("docs", MISSING),
         held.get(lang, {}).get("bytes", MISSING)]
        for lang in sorted(bpb)
    ]  # fmt: skip
    out.append(
        "Held-out text of each language (bits per byte: lower is better, comparable across tokenizers):\n"
    )
    out.append(table(["language", "bits per byte", "token perplexity", "documents", "bytes"], rows))
    tasks = f.rec("eval", "tasks") or {}
    for task, body in sorted(tasks.items()):
        out.append(
            f"\n**{md(task)}** (source: {md(body.get('source', NOT_RECORDED))}, template "
            f"{md(body.get('template', NOT_RECORDED))}, {fmt(body.get('num_fewshot'))}-shot):\n"
        )
        rows = [
            [lang, s.get("acc"), s.get("acc_norm"), s.get("n")]
            for lang, s in sorted(body.get("per_language", {}).items())
        ]
        out.append(table(["language", "accuracy", "accuracy (length-normalized)", "items"], rows))
    if not tasks:
        out.append(f"\nMultiple-choice tasks: {NOT_RECORDED}\n")
    return "\n".join(out)


def render(f: Facts) -> str:
    c = f.cfg
    langs = f.languages()
    lang_text = md(", ".join(langs)) if langs else NOT_RECORDED
    per_lang_tokens = f.tokens_per_language()
    mix_rows = [
        [lang, f.rec("mix", "docs_after", lang), f.rec("mix", "bytes_after", lang),
         f.rec("mix", "epochs", lang), per_lang_tokens.get(lang, MISSING)]
        for lang in langs
    ]  # fmt: skip
    from openeurollm.release.sections import licence_counts, sources_by_name

    sources = [[g["name"], licence_counts(g), g["docs"], g["bytes"]] for g in sources_by_name(f)]
    dropped = f.rec("curate", "dropped_by_reason") or {}
    drop_rows = [[reason, n] for reason, n in sorted(dropped.items())]
    docs = "\n".join(f"- [{label}]({name})" for label, name in DOCUMENTS)
    return f"""{front_matter(f)}
# {c.model_name}

{c.model_name} (version {c.version}) is a {f.r("train", "params")}-parameter decoder-only language
model trained for {f.r("train", "tokens_seen")} tokens (repeated documents counted each time;
{f.r("mix", "distinct_train_docs")} distinct documents, {f.r("train", "epochs")} passes over the token shards)
of text in {len(langs) or NOT_RECORDED} languages ({lang_text}). Every figure in this card is generated from the records of the training run;
a figure the run did not record is shown as "{NOT_RECORDED}".

## Model details

| | |
|---|---|
| Provider | {f.provided("provider")} |
| Contact | {f.provided("contact")} |
| Licence | {f.provided("license")} |
| Release date | {f.provided("release_date")} |
| Architecture | {architecture_line(f)} |
| Parameters | {f.r("train", "params")} ({f.r("train", "params_non_embedding")} without embeddings) |
| Context length in training | {f.r("train", "seq_len", unit="tokens")} |
| Tokenizer | byte-level BPE, {f.r("tokenizer", "vocab_size")} tokens, {f.r("tokenizer", "languages")} |
| Hugging Face class | {f.info.get("architecture", NOT_RECORDED)} |
| Weights SHA-256 | {f.info.get("weights_sha256", NOT_RECORDED)} |

## Uses

- Intended uses: {f.provided("intended_uses")}
- Out-of-scope uses: {f.provided("out_of_scope_uses")}
- Acceptable use policy: {f.provided("acceptable_use_policy")}

## How to use

```python
from transformers import AutoModelForCausalLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("PATH_TO_THIS_FOLDER")
model = AutoModelForCausalLM.from_pretrained("PATH_TO_THIS_FOLDER")
```

## Training data

Sources:

{table(["source", "licences (documents)", "documents", "bytes"], sources)}
Curation: {f.r("curate", "docs_in")} documents in, {f.r("curate", "docs_kept")} kept,
{f.r("curate", "docs_dropped")} dropped, {f.r("curate", "quarantined")} quarantined.
Domains removed for a text-and-data-mining opt-out: {fmt(len(f.rec("curate", "optout_domains_opted_out"))) if f.rec("curate", "optout_domains_opted_out") is not MISSING else NOT_RECORDED}.

Documents dropped, by reason:

{table(["reason", "documents"], drop_rows)}
Mixture ({f.r("mix", "strategy")}), per language:

{table(["language", "document occurrences (repeats counted)", "bytes (repeats counted)", "epochs", "tokens trained"], mix_rows)}
## Training

| | |
|---|---|
| Steps | {f.r("train", "steps")} |
| Batch | {f.r("train", "batch_size", unit="sequences")} of {f.r("train", "seq_len", unit="tokens")} |
| Tokens seen (repeats counted) | {f.r("train", "tokens_seen")} |
| Passes over the token shards | {f.r("train", "epochs")} |
| Loss (first → final) | {f.r("train", "first_loss")} → {f.r("train", "final_loss")} |
| Compute | {f.r("train", "total_flops", unit="FLOPs")} (6·N·D plus attention, per token {f.r("train", "flops_per_token")}) |
| Wall-clock time | {f.r("train", "wall_seconds", unit="s")} |
| Device hours | {f.r("train", "device_hours", unit="h")} on {f.r("train", "world_size")} × {f.r("train", "device")} |
| Energy | {f.r("train", "energy_kwh", unit="kWh")} (method: {f.r("train", "energy_source")}) |
| Precision | {f.r("train", "dtype")} |

## Evaluation

{eval_tables(f)}
## Limitations

This model saw {f.r("train", "tokens_seen")} tokens in training; its knowledge and fluency are limited
accordingly and per language they follow the token counts above. It has not been aligned
or safety-tuned, and it can produce false, biased or offensive text. Evaluate it for your
use before deploying it.

## Documentation

{docs}
"""
