"""datasheet.md: the "Datasheets for Datasets" questions (Gebru et al.) for the training data,
answered from the records."""

from __future__ import annotations

from openeurollm.escape import markdown_text as md
from openeurollm.release.facts import NOT_RECORDED, Facts, fmt
from openeurollm.release.model_card import table
from openeurollm.release.sections import (
    curation_summary,
    language_table,
    licence_counts,
    modalities,
    optout_summary,
    sources_by_name,
)
from openeurollm.release.statements import data_amounts_list


def render(f: Facts) -> str:
    groups = sources_by_name(f)
    src_rows = [
        [
            g["name"],
            licence_counts(g),
            ", ".join(g["formats"]),
            g["files"],
            g["docs"],
            g["bytes"],
        ]
        for g in groups
    ]
    pii = f.rec("curate", "pii_total")
    return f"""# Datasheet: training data of {f.model_id()}

Answers to the questions of "Datasheets for Datasets" (Gebru et al., 2021), generated from the
records of the run. "{NOT_RECORDED}" marks what the run did not record.

## Motivation

- For what purpose was the dataset created? To pretrain the language model {f.model_id()}.
- Who created it, on behalf of whom? {f.provided("provider")}.
- Who funded it? {NOT_RECORDED}.

## Composition

- What do the instances represent? Documents of {modalities(f)} with a language label and a source URL or path.
- How many instances are there? {f.r("curate", "docs_kept")} documents after curation ({f.r("curate", "docs_in")} before). Amounts, each with what it counts:

{data_amounts_list(f)}
- Languages:

{language_table(f)}
- Is it a sample of a larger set? Selected from the sources below by the curation steps.
- Is any information missing? Unreadable records: {f.r("curate", "quarantined")} quarantined at curation,
  {fmt(sum((f.rec("ingest", "quarantined") or {}).values()))} at ingestion.
- Does it contain data that might be confidential or personal? Personal data found and masked,
  by kind: {md(fmt(dict(pii))) if pii else NOT_RECORDED}.
- Is there a held-out split? {f.r("mix", "heldout_docs")} documents per language, used for evaluation only.

## Collection process

- How was the data acquired? Read from the following source files:

{table(["source", "licences (documents)", "format", "files", "documents", "bytes"], src_rows)}
- Over what timeframe? {f.r("ingest", "collection_start")} to {f.r("ingest", "collection_end")}.
- Were individuals notified or did they consent? {NOT_RECORDED}.
- Opt-outs (text-and-data-mining reservations):

{optout_summary(f)}

## Preprocessing, cleaning, labeling

{curation_summary(f)}
- Mixture: strategy {f.r("mix", "strategy")}; epochs per language {md(fmt(f.rec("mix", "epochs")))}.
- Is the raw data saved? Yes: the ingest stage keeps every input document in the run directory.

## Uses

- Used for: pretraining {f.model_id()}.
- Other uses: {f.provided("intended_uses")}.
- Uses to avoid: {f.provided("out_of_scope_uses")}.

## Distribution

- The model is distributed under {f.provided("license")}; the source licences are listed above.
- Membership of a document can be checked with the membership index of the release.

## Maintenance

- Contact: {f.provided("contact")}.
- Updates: a new run of the recipe regenerates this datasheet from its records.
"""
