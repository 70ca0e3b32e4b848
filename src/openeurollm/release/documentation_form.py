"""The Model Documentation Form of the GPAI Code of Practice (Transparency chapter, 10 July
2025), as machine-readable JSON and as a rendered document.

Every field is filled from the records or says "not provided (set release.X)"; each is marked
with its audiences: the AI Office and national competent authorities receive their fields on
request, downstream providers theirs with the release.
"""

from __future__ import annotations

import json
import math
from typing import Any

from openeurollm.release.facts import MISSING, NOT_RECORDED, Facts, fmt
from openeurollm.release.model_card import architecture_line, table
from openeurollm.release.sections import modalities
from openeurollm.release.statements import infringing_sites

AIO, NCA, DP = "AI Office", "national competent authorities", "downstream providers"
EVERYONE, AUTHORITIES = (AIO, NCA, DP), (AIO, NCA)
FORM = "GPAI Code of Practice, Transparency chapter: Model Documentation Form (10 July 2025)"
SIZE_RANGES = [(5e8, "1-500M"), (5e9, "500M-5B"), (1.5e10, "5-15B"), (5e10, "15-50B"),
               (1e11, "50-100B"), (5e11, "100-500B"), (1e12, "500B-1T")]  # fmt: skip
MONTH_S = 30.44 * 86400
INFERENCE_TOKENS = 100_000


def sig2(value: Any, unit: str = "") -> str:
    """At least two significant figures in scientific notation (e.g. 7.3e+10), as the form asks."""
    if value is MISSING or value is None:
        return NOT_RECORDED
    return f"{float(value):.1e}" + (f" {unit}" if unit else "")


def size_range(params: Any) -> str:
    if params is MISSING or params is None:
        return NOT_RECORDED
    return next((label for top, label in SIZE_RANGES if params < top), ">1T")


def training_time_range(seconds: Any) -> str:
    if seconds is MISSING or seconds is None:
        return NOT_RECORDED
    months = seconds / MONTH_S
    return "<1 month" if months < 1 else "1-3 months" if months < 3 else (
        "3-6 months" if months < 6 else ">6 months"
    )  # fmt: skip


def order_of_magnitude(value: Any, unit: str) -> str:
    if value is MISSING or value is None or value <= 0:
        return NOT_RECORDED
    return f"10^{math.floor(math.log10(value))} {unit}"


def _times(value: Any, factor: float) -> Any:
    return MISSING if value is MISSING or value is None else value * factor


def _provenance(f: Facts) -> str:
    c = f.cfg
    crawled = f.rec("ingest", "crawler") is not MISSING or f.rec("ingest", "crawl") is not MISSING
    public = [n for n, d in c.datasets.items() if d.public]

    def said(v: bool | None, field: str) -> str:
        return f"not provided (set release.{field})" if v is None else ("yes" if v else "no")

    return (
        f"web crawling: {'yes (WARC input)' if crawled else 'no crawled input recorded'}; "
        f"public datasets: {', '.join(public) or 'none stated (set release.datasets)'}; "
        f"private third-party data: {said(c.private_third_party_data, 'private_third_party_data')}; "
        f"user data: {said(c.user_data, 'user_data')}; "
        f"synthetic data by or for the provider: {said(c.synthetic_data, 'synthetic_data')}"
    )


def _inference(f: Facts) -> str:
    per_token = f.rec("train", "flops_per_token")
    if per_token is MISSING:
        return NOT_RECORDED
    # A forward pass is a third of the training FLOPs per token (6N: forward 2N, backward 4N).
    return (
        f"estimated, not benchmarked: {sig2(per_token / 3 * INFERENCE_TOKENS)} FLOP to generate "
        f"{INFERENCE_TOKENS:,} tokens (one third of the training FLOPs per token, "
        f"{fmt(per_token)}, per generated token, at the trained context of "
        f"{f.r('train', 'seq_len')} tokens); hardware: any"
    )


def _fields(f: Facts) -> list[tuple[str, str, Any, tuple[str, ...]]]:
    """(section, field, value, audiences) in the form's order."""
    c, p = f.cfg, f.provided
    flops, wall = f.rec("train", "total_flops"), f.rec("train", "wall_seconds")
    tokens = f.rec("train", "tokens_seen")
    tasks = f.rec("eval", "tasks") or {}
    return [
        ("General", "Document last updated", f.today, EVERYONE),
        ("General", "Document version", c.version, EVERYONE),
        ("General", "Legal name of the provider", p("provider"), EVERYONE),
        ("Model", "Model name (versioned id; family; versions covered)",
         f"{f.model_id()}; {c.model_name}; {c.version}", EVERYONE),
        ("Model", "Model authenticity (SHA-256 of the weights)",
         fmt(f.info.get("weights_sha256", MISSING)), EVERYONE),
        ("Model", "Release date", p("release_date"), EVERYONE),
        ("Model", "Union market release date", p("union_market_date"), EVERYONE),
        ("Model", "Model dependencies", f.r("train", "init_checkpoint"), EVERYONE),
        ("Model", "Model architecture", architecture_line(f), EVERYONE),
        ("Model", "Design specification of the model", p("design_rationale"), AUTHORITIES),
        ("Model", "Input and output modalities, maximum size",
         f"text in, text out; trained context {f.r('train', 'seq_len')} tokens", EVERYONE),
        ("Model", "Total model size", sig2(f.rec("train", "params"), "parameters"), EVERYONE),
        ("Model", "Size range", size_range(f.rec("train", "params")), EVERYONE),
        ("Distribution", "Distribution channels", p("distribution_channels"), EVERYONE),
        ("Distribution", "Licence", f"{p('license')} (https://spdx.org/licenses/{c.license}.html)",
         EVERYONE),
        ("Use", "Acceptable use policy", p("acceptable_use_policy"), EVERYONE),
        ("Use", "Intended or restricted uses", p("intended_uses"), EVERYONE),
        ("Use", "Type and nature of AI systems; technical means for integration",
         "text generation in any system that runs Hugging Face transformers "
         "(AutoModelForCausalLM, AutoTokenizer on the release folder)", EVERYONE),
        ("Use", "Required hardware and software",
         f"any PyTorch device; software: {fmt(f.entry('train', 'versions'))}", EVERYONE),
        ("Training", "Design specification of the training process", p("design_rationale"),
         AUTHORITIES),
        ("Data", "Data type and modality (training, testing, validation)", modalities(f), EVERYONE),
        ("Data", "Data provenance", _provenance(f), EVERYONE),
        ("Data", "How the data was obtained and selected",
         f"read from the input datasets (training_content_summary.md, section 2); curation: "
         f"{f.r('curate', 'docs_in')} documents in, {f.r('curate', 'docs_kept')} kept; mixture "
         f"{f.r('mix', 'strategy')}", AUTHORITIES),
        ("Data", "Number of data points (national authorities: order of magnitude)",
         order_of_magnitude(tokens, "tokens seen in training"), (NCA,)),
        ("Data", "Number of data points (AI Office)",
         f"{sig2(tokens, 'tokens seen in training')}; {f.r('mix', 'distinct_train_docs')} distinct "
         "documents", (AIO,)),
        ("Data", "Scope and main characteristics", f"languages: {', '.join(f.languages()) or NOT_RECORDED}",
         EVERYONE),
        ("Data", "Data curation methodologies",
         ", ".join(f.rec("curate", "steps") or []) or NOT_RECORDED, EVERYONE),
        ("Data", "Measures against unsuitable data sources",
         f"opt-out protocols and filters as in copyright_policy.md; infringing-website lists: "
         f"{infringing_sites(f)}", AUTHORITIES),
        ("Data", "Measures to detect identifiable biases", NOT_RECORDED, AUTHORITIES),
        ("Data", "Test data provenance",
         f"held-out documents of the curated data ({f.r('mix', 'heldout_docs')} per language, "
         "never trained on); tasks: "
         + (", ".join(f"{t} ({b.get('source') or NOT_RECORDED})" for t, b in sorted(tasks.items()))
            or "none"), EVERYONE),
        ("Compute", "Training time (national authorities: range)", training_time_range(wall), (NCA,)),
        ("Compute", "Training time (AI Office)",
         f"{sig2(_times(wall, 1 / 86400), 'wall-clock days')}; "
         f"{sig2(_times(f.rec('train', 'device_hours'), 1 / 24), 'hardware-days')} on "
         f"{f.r('train', 'world_size')} x {f.r('train', 'device')}", (AIO,)),
        ("Compute", "Amount of computation for training (national authorities)",
         order_of_magnitude(flops, "FLOP"), (NCA,)),
        ("Compute", "Amount of computation for training (AI Office)", sig2(flops, "FLOP"), (AIO,)),
        ("Compute", "Measurement methodology (compute)",
         "architecture-based: FLOPs per token (6N plus attention) x tokens seen", AUTHORITIES),
        ("Compute", "Energy used for training",
         sig2(_times(f.rec("train", "energy_kwh"), 1e-3), "MWh"), AUTHORITIES),
        ("Compute", "Energy methodology", f.r("train", "energy_source"), AUTHORITIES),
        ("Compute", "Benchmarked computation for inference", _inference(f), AUTHORITIES),
    ]  # fmt: skip


def build(f: Facts) -> dict[str, Any]:
    return {
        "form": FORM,
        "model": f.model_id(),
        "fields": [
            {"section": s, "field": name, "value": value, "audiences": list(aud)}
            for s, name, value, aud in _fields(f)
        ],
    }


def render_json(f: Facts) -> str:
    return json.dumps(build(f), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render(f: Facts) -> str:
    rows = [
        [s, name, str(value).replace("\n", " "), ", ".join(aud)]
        for s, name, value, aud in _fields(f)
    ]
    return f"""# Model Documentation Form: {f.model_id()}

{FORM}. Generated from the records of the training run; the same fields are in
model_documentation_form.json. Fields for the AI Office and national competent authorities are
handed over on their request; fields for downstream providers are public with this release.
Not legal advice: the provider is responsible for checking and completing it.

{table(["section", "field", "value", "audiences"], rows)}"""
