"""croissant.json: Croissant 1.0 JSON-LD (with RAI fields) for the curated training dataset.

The dataset is the curate stage's output (curate/docs/*.parquet in the run folder, one
document per row); file checksums come from the curate entry of the manifest.
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


def _files(f: Facts) -> list[dict[str, Any]]:
    files = f.entry("curate", "files")
    if not isinstance(files, dict):
        return []
    return [
        {
            "@type": "cr:FileObject",
            "@id": rel,
            "name": rel,
            "description": "Curated documents (Parquet, zstd).",
            "contentUrl": f"curate/{rel}",
            "encodingFormat": "application/x-parquet",
            "sha256": digest,
        }
        for rel, digest in sorted(files.items())
        if rel.startswith("docs/") and rel.endswith(".parquet")
    ]


def build(f: Facts) -> dict[str, Any]:
    files = _files(f)
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
            "source": {"fileObject": {"@id": fobj["@id"]}, "extract": {"column": name}},
        }
        for name, dtype, desc in FIELDS
        for fobj in files[:1]
    ]
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "dct:conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": f"{f.cfg.model_name}-training-data",
        "description": (
            f"Curated multilingual text used to train {f.model_id()}: "
            f"{fmt(f.rec('curate', 'docs_kept'))} documents in "
            f"{len(f.languages()) or NOT_RECORDED} languages ({', '.join(f.languages()) or NOT_RECORDED})."
        ),
        "license": [SPDX_URL.format(lic) for lic in licenses] or NOT_RECORDED,
        # The provider's page when given; otherwise the model card beside this file.
        "url": f.cfg.homepage or "README.md",
        "creator": {"@type": "sc:Organization", "name": f.cfg.provider},
        "datePublished": f.today,
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
                "description": "One curated document per record.",
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
