"""Statements several release documents make, each worded to say exactly what the records
show: which opt-out protocols this run applied (and which it had no input for), how much data
was trained on (labelled: with or without repeats), and where the model stands against the
AI Act's compute thresholds."""

from __future__ import annotations

from typing import Any

from openeurollm.escape import markdown_text as md
from openeurollm.release.facts import MISSING, NOT_RECORDED, Facts, fmt

OPTOUT_SETTING = "curate.optout"
GPAI_INDICATIVE_FLOP = 1e23  # Commission guidelines on GPAI models (18 July 2025), section 2
SYSTEMIC_RISK_FLOP = 1e25  # AI Act Art. 51(2)
# SPDX ids of free and open-source licences (OSI-approved) that allow access, use,
# modification and distribution without monetisation (Art. 53(2), Recitals 102-104).
OPEN_SOURCE_LICENSES = {
    "Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "ISC", "UPL-1.0", "MPL-2.0",
    "GPL-2.0-only", "GPL-3.0-only", "LGPL-3.0-only", "AGPL-3.0-only", "EUPL-1.2",
}  # fmt: skip


def _has_page_signals(f: Facts) -> int:
    """WARC files in the input: the only input whose documents carry page-level signals."""
    return sum(1 for s in f.sources() if s.get("format") == "warc")


def _removed(by_rule: dict[str, int], *prefixes: str) -> int:
    return sum(n for rule, n in by_rule.items() if rule.startswith(prefixes))


def optout_protocol_rows(f: Facts) -> list[list[Any]]:
    """(protocol, applied in this run?, input, documents removed) for every opt-out protocol
    the pipeline supports; "applied" only when the run had that protocol's input."""
    p = f.rec("curate", "optout_protocols")
    if not isinstance(p, dict):
        return []
    by_rule = p.get("docs_removed_by_rule") or {}
    agents = ", ".join(p.get("ai_user_agents") or []) or "none"
    warc = _has_page_signals(f)
    rows = []

    def row(name: str, files: list[str], what: str, setting: str, removed: int) -> None:
        if files:
            rows.append([name, "applied", f"{', '.join(files)} ({what})", removed])
        else:
            rows.append(
                [name, "not applied", f"none given ({OPTOUT_SETTING}.{setting} is empty)", "-"]
            )

    row("Domain lists of reserved rights", p["domain_lists"], f"{fmt(p['domains_listed'])} domains",
        "domain_lists", _removed(by_rule, "optout_domain_list"))  # fmt: skip
    row("robots.txt snapshots (RFC 9309)", p["robots_snapshots"], f"disallowing any of: {agents}",
        "robots_snapshots", _removed(by_rule, "optout_robots_txt"))  # fmt: skip
    row("TDMRep /.well-known/tdmrep.json snapshots", p["tdmrep_snapshots"], "tdm-reservation",
        "tdmrep_snapshots", _removed(by_rule, "optout_tdmrep_json"))  # fmt: skip
    if not p.get("page_signals"):
        rows.append(["Page signals (TDMRep header or meta, robots noai)", "not applied",
                     f"switched off ({OPTOUT_SETTING}.page_signals: false)", "-"])  # fmt: skip
    elif not warc:
        rows.append(["Page signals (TDMRep header or meta, robots noai)", "not applied",
                     "no input carries them (only WARC input does; this run had none)", "-"])  # fmt: skip
    else:
        rows.append(["Page signals (TDMRep header or meta, robots noai)", "applied",
                     f"read from the pages of {warc} WARC file(s)",
                     _removed(by_rule, "optout_tdmrep_header", "optout_tdmrep_meta", "optout_noai")])  # fmt: skip
    return rows


def infringing_sites(f: Facts) -> str:
    """What the run did about lists of websites persistently infringing copyright, with the
    issuer exactly as the provider states it (the documents cannot know who issued a list)."""
    rec = f.rec("curate", "infringing_sites")
    if not isinstance(rec, dict):
        return NOT_RECORDED
    if not rec.get("lists"):
        return (
            "not applied: no list of such websites was given for this run "
            f"({OPTOUT_SETTING}.infringing_lists is empty)"
        )
    domains = rec.get("domains") or {}
    return (
        f"applied: list(s) {md(', '.join(rec['lists']))} ({fmt(rec.get('domains_listed'))} domains; "
        f"issued by: {f.provided('infringing_lists_issuer')}); {fmt(rec.get('docs_removed'))} "
        f"documents from {fmt(len(domains))} listed domain(s) removed"
    )


def data_amounts(f: Facts) -> list[tuple[str, str]]:
    """Every amount of training data, each labelled with what it counts."""
    heldout = f.rec("mix", "heldout_docs")
    return [
        ("tokens seen in training (repeated documents counted each time)",
         f.r("train", "tokens_seen")),
        ("tokens in the token shards (documents the mixture repeats counted each time)",
         f.r("shards", "total_tokens")),
        ("passes over the token shards (tokens seen / tokens in the shards)", f.r("train", "epochs")),
        ("bytes of text in the training mix (repeats counted)", f.r("mix", "train_bytes")),
        ("document occurrences in the training mix (repeats counted)", f.r("mix", "train_docs")),
        ("distinct documents trained on", f.r("mix", "distinct_train_docs")),
        ("documents kept by curation", f.r("curate", "docs_kept")),
        ("documents held out for evaluation (never trained on)",
         fmt(sum(heldout.values())) if isinstance(heldout, dict) else NOT_RECORDED),
    ]  # fmt: skip


def data_amounts_list(f: Facts) -> str:
    return "\n".join(f"- {label}: {value}" for label, value in data_amounts(f))


def _flop_position(flops: Any) -> str:
    if flops is MISSING or flops is None:
        return f"Training compute: {NOT_RECORDED}; the thresholds below cannot be checked."
    gpai = "above" if flops > GPAI_INDICATIVE_FLOP else "below"
    risk = "above" if flops > SYSTEMIC_RISK_FLOP else "below"
    return (
        f"- Training compute: {fmt(flops)} FLOP (cumulative for this run, architecture-based "
        "estimate).\n"
        f"- {gpai.capitalize()} 10^23 FLOP, the indicative criterion of the Commission's "
        "guidelines for a general-purpose AI model (with the ability to generate language). "
        + (
            "The criterion is indicative: the provider must assess whether the model displays "
            "significant generality."
            if gpai == "below"
            else "The model is presumed a general-purpose AI model unless it lacks significant "
            "generality."
        )
        + f"\n- {risk.capitalize()} 10^25 FLOP, the presumption of systemic risk (Art. 51(2))."
    )


def _open_source_position(f: Facts) -> str:
    lic, risk = f.cfg.license, f.cfg.systemic_risk
    if risk:
        return (
            f"- Art. 53(2): does not apply: the provider states the model has systemic risk "
            f"(release.systemic_risk), so Annex XI and XII documentation is required whatever "
            f"the licence ({lic})."
        )
    if lic not in OPEN_SOURCE_LICENSES:
        return (
            f"- Art. 53(2): not claimed: the weights' licence {lic} is not one of the free and "
            "open-source licences this tool recognises; Art. 53(1)(a) and (b) apply."
        )
    risk_text = (
        "the provider states no systemic risk"
        if risk is False
        else "systemic risk: not provided (set release.systemic_risk)"
    )
    return (
        f"- Art. 53(2): the weights' licence {lic} is a free and open-source licence allowing "
        "access, use, modification and distribution; with the weights, the architecture and "
        "this usage information made public, the obligations of Art. 53(1)(a) and (b) (Annex "
        "XI and XII documentation) do not apply unless the model has systemic risk "
        f"({risk_text}). This release provides both documents anyway. The exemption also "
        "requires that the model is not monetised (Recital 103): the provider's statement."
    )


def _modification_position(f: Facts) -> str:
    init = f.rec("train", "init_checkpoint")
    if init is MISSING:
        return f"- Modification of another model: {NOT_RECORDED}."
    if str(init).startswith("none"):
        return (
            "- Modification of another model: not applicable: trained from scratch "
            f"({md(str(init))}). A provider who modifies this model becomes the provider of a new "
            "model when the modification uses more than a third of this model's training "
            "compute (stated above)."
        )
    return (
        f"- Modification of another model ({md(str(init))}): this run is a new model of its own only if "
        "its training compute exceeds a third of the original model's training compute "
        "(if that is unknown, the guidelines use a third of 10^23 FLOP, about 3.3e22 FLOP)."
    )


def legal_position(f: Facts) -> str:
    """Compute thresholds, the open-source position of Art. 53(2), what still applies."""
    return "\n".join(
        [
            _flop_position(f.rec("train", "total_flops")),
            _open_source_position(f),
            "- Still required whatever the licence: a copyright policy (Art. 53(1)(c); "
            "copyright_policy.md) and the public summary of training content (Art. 53(1)(d); "
            "training_content_summary.md).",
            _modification_position(f),
        ]
    )
