"""croissant.json: Croissant 1.0 JSON-LD (with RAI fields) for the curated training dataset.

The dataset is the curate stage's output, one document per row; when the release ships it
(release.open_science) the record set reads every file under data/curated/ in the release.
"""

from __future__ import annotations

import json
from typing import Any

from openeurollm.release.facts import NOT_RECORDED, Facts, fmt
from openeurollm.release.sections import curation_summary, sources_by_name

# The JSON-LD context of Croissant 1.0 (mlcommons.org/croissant/1.0), with the RAI prefix.
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

FIELDS = [
    ("id", "sc:Text", "Stable content hash of the document."),
    ("text", "sc:Text", "The document text after curation (PII masked)."),
    ("lang", "sc:Text", "ISO 639-1 language label after language identification."),
    ("lang_score", "sc:Float", "Confidence of the language label."),
    ("source", "sc:URL", "Source URL, or the path of the input file."),
    ("meta", "sc:Text", "JSON object with licence, domain and other source metadata."),
]
SPDX_URL = "https://spdx.org/licenses/{}.html"


DATA_SET_ID = "curated-documents"


def _distribution(f: Facts) -> list[dict[str, Any]]:
    """The curated documents shipped in this release (release.open_science): one FileSet over
    every Parquet file, so the record set reads all of them; digests are in SHA256SUMS."""
    shipped = f.info.get("dataset") or {}
    if not shipped.get("files"):
        return []
    return [
        {
            "@type": "cr:FileSet",
            "@id": DATA_SET_ID,
            "name": DATA_SET_ID,
            "description": f"Curated documents (Parquet, zstd): {len(shipped['files'])} file(s); "
            "their SHA-256 digests are listed in SHA256SUMS.",
            "encodingFormat": "application/x-parquet",
            "includes": f"{shipped['folder']}/*.parquet",
        }
    ]


def _cite_as(f: Facts) -> str:
    year = (f.cfg.release_date or f.today)[:4]
    key = f.model_id().replace("-", "_").replace(".", "_")
    url = f",\n  url = {{{f.cfg.homepage}}}" if f.cfg.homepage else ""
    return (
        f"@misc{{{key}_data,\n  title = {{Training data of {f.model_id()}}},\n"
        f"  author = {{{f.cfg.provider}}},\n  year = {{{year}}},\n"
        f"  note = {{Version {f.cfg.version}}}{url}\n}}"
    )


def _description(f: Facts) -> str:
    heldout = f.rec("mix", "heldout_docs")
    held = fmt(sum(heldout.values())) if isinstance(heldout, dict) else NOT_RECORDED
    langs = f.languages()
    shipped = (
        ""
        if f.info.get("dataset")
        else (
            " The documents themselves are not part of this release (release.open_science is off "
            "or their licences do not allow redistribution)."
        )
    )
    return (
        f"Curated multilingual text prepared to train {f.model_id()}: "
        f"{fmt(f.rec('curate', 'docs_kept'))} documents kept by curation in "
        f"{len(langs) or NOT_RECORDED} languages ({', '.join(langs) or NOT_RECORDED}); "
        f"{f.r('mix', 'distinct_train_docs')} of them trained on, {held} held out for "
        f"evaluation and never trained on; the rest were not selected by the mixture." + shipped
    )


def build(f: Facts) -> dict[str, Any]:
    files = _distribution(f)
    licenses = sorted(
        {lic for g in sources_by_name(f) for lic in g["licenses"] if lic != NOT_RECORDED}
    )
    fields = [
        {
            "@type": "cr:Field",
            "@id": f"documents/{name}",
            "name": name,
            "description": desc,
            "dataType": dtype,
            "source": {"fileSet": {"@id": DATA_SET_ID}, "extract": {"column": name}},
        }
        for name, dtype, desc in FIELDS
    ]
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "dct:conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": f"{f.cfg.model_name}-training-data",
        "description": _description(f),
        "license": [SPDX_URL.format(lic) for lic in licenses] or NOT_RECORDED,
        # Only a real URL: the provider's page (release.homepage); otherwise no `url` at all.
        **({"url": f.cfg.homepage} if f.cfg.homepage else {}),
        "citeAs": _cite_as(f),
        "creator": {"@type": "sc:Organization", "name": f.cfg.provider},
        **({"datePublished": f.cfg.release_date} if f.cfg.release_date else {}),
        "version": f.cfg.version,
        "inLanguage": f.languages(),
        "keywords": ["multilingual", "pretraining", "European languages"],
        "isLiveDataset": False,
        "distribution": files,
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": "documents",
                "name": "documents",
                "description": "One curated document per record, over every file of the set.",
                "field": fields,
            }
        ]
        if files
        else [],
        "rai:dataCollection": "Documents read from the source files: "
        + ", ".join(f"{g['name']} ({fmt(g['docs'])} documents)" for g in sources_by_name(f)),
        "rai:dataCollectionType": "Secondary data analysis",
        **_timeframe(f),
        "rai:dataPreprocessingProtocol": curation_summary(f),
        "rai:personalSensitiveInformation": (
            f"Personal data masked by kind: {fmt(f.rec('curate', 'pii_total'))}"
        ),
        "rai:dataUseCases": f.provided("intended_uses"),
        "rai:dataLimitations": f"{fmt(f.rec('curate', 'docs_kept'))} documents; per-language sizes in the datasheet.",
        "rai:dataReleaseMaintenancePlan": "Regenerated from the run records by each run of the recipe.",
    }
    return doc


def _timeframe(f: Facts) -> dict[str, str]:
    """The collection period as an ISO 8601 interval, when the documents carry dates."""
    start, end = f.rec("ingest", "collection_start"), f.rec("ingest", "collection_end")
    if isinstance(start, str) and isinstance(end, str):
        return {"rai:dataCollectionTimeframe": f"{start}/{end}"}
    return {}


def render(f: Facts) -> str:
    return json.dumps(build(f), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
