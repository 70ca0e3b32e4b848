"""Paragraphs that several release documents share, each built from the records only."""

from __future__ import annotations

from typing import Any

from openeurollm.escape import markdown_text as md
from openeurollm.release.facts import MISSING, NOT_RECORDED, Facts, fmt
from openeurollm.release.model_card import table

TEXT_FORMATS = {"jsonl", "parquet", "warc", "text", "txt", "csv"}


def sources_by_name(f: Facts) -> list[dict[str, Any]]:
    """Ingest sources grouped by their name: files, documents, bytes, licences."""
    out: dict[str, dict[str, Any]] = {}
    for s in f.sources():
        name = s.get("name") or NOT_RECORDED
        agg = out.setdefault(
            name,
            {"name": name, "files": 0, "docs": 0, "bytes": 0, "license_docs": {}, "formats": set()},
        )
        agg["files"] += 1
        agg["docs"] += int(s.get("docs") or 0)
        agg["bytes"] += int(s.get("bytes") or 0)
        # Each document's own licence when ingest counted them; else the input's default.
        per_doc = s.get("licenses") or {s.get("license") or NOT_RECORDED: int(s.get("docs") or 0)}
        for lic, n in per_doc.items():
            agg["license_docs"][lic] = agg["license_docs"].get(lic, 0) + n
        for key, pick in (("collection_start", min), ("collection_end", max)):
            if s.get(key):
                agg[key] = pick(filter(None, (agg.get(key), s[key])))
        agg["formats"].add(s.get("format") or NOT_RECORDED)
    for agg in out.values():
        agg["licenses"] = sorted(agg["license_docs"])
        agg["formats"] = sorted(agg["formats"])
    return sorted(out.values(), key=lambda a: -a["bytes"])


def licence_counts(group: dict[str, Any]) -> str:
    """A dataset's licences with the documents under each: "CC-BY-4.0 (12 documents), ..."."""
    docs = group["license_docs"]
    return ", ".join(f"{lic} ({fmt(docs[lic])} documents)" for lic in sorted(docs)) or NOT_RECORDED


def modalities(f: Facts) -> str:
    formats = {s.get("format") for s in f.sources()}
    if not formats:
        return NOT_RECORDED
    if formats <= TEXT_FORMATS:
        return "text"
    return "text and other (formats: " + md(", ".join(sorted(str(x) for x in formats))) + ")"


def token_count(f: Facts) -> Any:
    value = f.rec("train", "tokens_seen")
    return value if value is not MISSING else f.rec("shards", "total_tokens")


def size_bin(tokens: Any) -> str:
    """The template's size category for text (tokens seen in training)."""
    if tokens is MISSING or tokens is None:
        return NOT_RECORDED
    if tokens < 1e9:
        return "less than 1 billion tokens"
    if tokens <= 1e13:
        return "1 billion to 10 trillion tokens"
    return "more than 10 trillion tokens"


def language_table(f: Facts) -> str:
    tokens = f.tokens_per_language()
    total = sum(tokens.values())
    rows = []
    for lang in f.languages():
        t = tokens.get(lang, MISSING)
        share = f"{100 * t / total:.1f}%" if t is not MISSING and total else NOT_RECORDED
        rows.append(
            [lang, f.rec("curate", "kept_per_language", lang), f.rec("curate", "bytes_kept_per_language", lang),
             f.rec("mix", "epochs", lang), t, share]
        )  # fmt: skip
    return table(
        [
            "language",
            "documents kept",
            "bytes kept",
            "epochs in the mix",
            "tokens trained",
            "share",
        ],
        rows,
    )


def domain_optout(v: dict[str, Any]) -> tuple[bool, list[str], int]:
    """(opted out?, rules that matched, documents removed) of one domain's opt-out record
    (either {opted_out, rule, docs} or {docs, opted_out_docs, rules: {rule: docs}})."""
    if "opted_out_docs" in v:
        removed = int(v.get("opted_out_docs") or 0)
        rules = [r for r in (v.get("rules") or {}) if r != "none"]
        return removed > 0, rules, removed
    opted = bool(v.get("opted_out"))
    rule = v.get("rule")
    return opted, [rule] if opted and rule else [], int(v.get("docs") or 0) if opted else 0


def domain_rows(
    f: Facts, top_fraction: float = 0.10, at_most: int | None = None
) -> tuple[list[list[Any]], str]:
    """Top domains of the data, by size of content (bytes of text the opt-out step saw per
    domain; documents where an older record has no bytes): the top `top_fraction` of domains,
    or `at_most` if that is fewer (the template's rule for SMEs: 5% or 1,000)."""
    domains = f.rec("curate", "optout")
    if not domains:
        return [], NOT_RECORDED
    kept = {d: v for d, v in domains.items() if not domain_optout(v)[0]}
    by_bytes = all("bytes" in v for v in kept.values())
    size = "bytes" if by_bytes else "docs"
    ranked = sorted(kept.items(), key=lambda kv: (-int(kv[1].get(size, 0)), kv[0]))
    n = max(1, round(len(ranked) * top_fraction))
    n = min(n, at_most) if at_most else n
    rows = [[d, v.get("docs"), v.get("bytes", NOT_RECORDED)] for d, v in ranked[:n]]
    measure = "bytes of text" if by_bytes else "documents (bytes per domain: not recorded)"
    basis = (
        f"top {n} of {len(ranked)} domains ({top_fraction:.0%}), ranked by {measure} seen by "
        "the opt-out step, before quality filtering and deduplication"
    )
    return rows, basis


def optout_summary(f: Facts) -> str:
    """Each opt-out protocol as applied or not applied in this run, with its counts."""
    from openeurollm.release.statements import optout_protocol_rows

    lists = f.rec("curate", "optout")
    opted = f.rec("curate", "optout_domains_opted_out")
    if lists is MISSING and opted is MISSING:
        return f"Opt-out handling: {NOT_RECORDED}."
    protocols = optout_protocol_rows(f)
    lines = [
        table(["protocol", "in this run", "input", "documents removed"], protocols)
        if protocols
        else f"Opt-out protocols applied: {NOT_RECORDED}.\n",
        f"- Domains seen by the opt-out step: {fmt(len(lists) if lists else MISSING)}.",
        f"- Domains found to have reserved their rights: {fmt(len(opted) if opted is not MISSING else MISSING)}"
        + (f" ({md(', '.join(opted))})" if opted else "")
        + ".",
        f"- Documents removed for an opt-out, all protocols together: {f.r('curate', 'optout_docs_removed')}.",
        "- The protocols applied were checked for every document before training, whatever its "
        "collection date (retroactively); a listed domain covers its subdomains.",
    ]
    return "\n".join(lines)


def curation_summary(f: Facts) -> str:
    steps = f.rec("curate", "steps")
    dropped = f.rec("curate", "dropped_by_reason") or {}
    pii = f.rec("curate", "pii_total")
    dedup = f.rec("curate", "dedup")
    decontam = f.rec("curate", "decontam")
    lines = [
        f"- Documents in: {f.r('curate', 'docs_in')}; kept: {f.r('curate', 'docs_kept')}; "
        f"dropped: {f.r('curate', 'docs_dropped')}; quarantined (unreadable): {f.r('curate', 'quarantined')}.",
        f"- Curation steps recorded: {md(', '.join(steps)) if steps else NOT_RECORDED}.",
        f"- Personal data masked (PII placeholders, by kind): {md(fmt(dict(pii))) if pii else (NOT_RECORDED if pii is MISSING else 'none found')}.",
        f"- Deduplication: {md(fmt(dedup)) if dedup is not MISSING else NOT_RECORDED}.",
        f"- Benchmark decontamination: {md(fmt(decontam)) if decontam is not MISSING else NOT_RECORDED}.",
    ]
    out = "\n".join(lines) + "\n\nDocuments dropped, by reason:\n\n"
    return out + table(["reason", "documents"], [[r, n] for r, n in sorted(dropped.items())])


def eval_summary(f: Facts) -> str:
    from openeurollm.release.model_card import eval_tables

    return eval_tables(f)


def mmyyyy(iso: Any) -> str:
    """An ISO day as the AI Office template writes dates of collection (MM/YYYY)."""
    if not (isinstance(iso, str) and len(iso) >= 7):
        return NOT_RECORDED
    return f"{iso[5:7]}/{iso[:4]}"


def collection_months(start: Any, end: Any) -> str:
    """A collection period as the template writes it (MM/YYYY-MM/YYYY), from ISO days."""
    if NOT_RECORDED in (mmyyyy(start), mmyyyy(end)):
        return NOT_RECORDED
    return f"{mmyyyy(start)}-{mmyyyy(end)}"


def ddmmyyyy(iso: str) -> str:
    y, m, d = iso[:10].split("-")
    return f"{d}/{m}/{y}"
