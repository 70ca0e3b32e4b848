"""Small generated corpora for curate tests: our own words, deterministic by seed."""

from __future__ import annotations

import json
import random
from pathlib import Path

_VOCAB = {
    "en": {
        "adj": "quiet old bright small busy green narrow famous local cold wooden hidden",
        "noun": "village river teacher garden market bridge library farmer bakery harbour "
        "museum castle meadow council festival orchard",
        "verb": "visited repaired painted opened described protected admired crossed",
        "tpl": [
            "The {a} {n} {v} the {a} {n} near the {n} because it was {a}.",
            "Every year the {n} of the {a} {n} {v} a {a} {n} with great care.",
            "Nobody expected that the {a} {n} would have {v} the {n} so early in the season.",
            "In the evening the {n} and the {n} were {a}, and the children {v} the {n}.",
            "According to the {a} {n}, the {n} had been {v} by a group of volunteers.",
        ],
    },
    "de": {
        "adj": "alte kleine ruhige bunte schmale bekannte hölzerne neue kalte grüne",
        "noun": "Brücke Mühle Schule Kirche Bäckerei Scheune Wiese Hütte Burg Kapelle",
        "verb": "besuchte reparierte bemalte öffnete beschrieb schützte bewunderte",
        "tpl": [
            "Die {a} {n} wurde im Sommer von der Gemeinde {v}, weil sie sehr {a} war.",
            "Jedes Jahr {v} die Familie die {a} {n} und die {a} {n} am Fluss.",
            "Niemand hatte erwartet, dass man die {a} {n} und die {n} so früh {v}.",
            "Am Abend waren die {n} und die {n} still, und die Kinder {v} die {a} {n}.",
            "Nach Angaben der {a} {n} hat eine Gruppe von Freiwilligen die {n} gestern {v}.",
        ],
    },
    "fr": {
        "adj": "petite vieille grande belle ancienne nouvelle tranquille célèbre",
        "noun": "maison église école boulangerie rivière place ferme chapelle forêt",
        "verb": "visitait réparait peignait ouvrait décrivait protégeait admirait",
        "tpl": [
            "La {a} {n} du village {v} la {a} {n} parce que tout le monde aimait la {n}.",
            "Chaque année, la famille {v} la {a} {n} et la {n} près de la {n}.",
            "Personne ne pensait que la {a} {n} {v} encore la {n} au printemps.",
            "Le soir, les enfants de la {n} {v} la {a} {n} avec leurs parents.",
            "Selon la {a} {n}, un groupe de bénévoles {v} la {n} depuis des années.",
        ],
    },
}


def paragraph(lang: str, rng: random.Random) -> str:
    """Each template once, in random order: no repeated 5-grams for the Gopher rules."""
    v = _VOCAB[lang]
    out = []
    for tpl in rng.sample(v["tpl"], len(v["tpl"])):
        s = ""
        for part in tpl.split("{"):
            if "}" in part:
                key, rest = part.split("}", 1)
                s += rng.choice({"a": v["adj"], "n": v["noun"], "v": v["verb"]}[key].split()) + rest
            else:
                s += part
        out.append(s)
    return " ".join(out)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def clean_docs(lang: str, n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(f"{lang}-{seed}")
    return [
        {
            "text": paragraph(lang, rng),
            "lang": lang,
            "url": f"https://site{i % 7}.{lang}.example/page/{i}",
        }
        for i in range(n)
    ]


def warc_record(url: str, html: str, headers: dict[str, str] | None = None, n: int = 0) -> bytes:
    """One WARC/1.0 response record holding an HTTP response with `html`."""
    http = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    for k, v in (headers or {}).items():
        http += f"{k}: {v}\r\n"
    payload = (http + "\r\n").encode() + html.encode("utf-8")
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Target-URI: {url}\r\nWARC-Date: 2025-03-0{1 + n % 9}T10:00:00Z\r\n"
        f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{n:012d}>\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload + b"\r\n\r\n"


CRAWLER_FIELDS = {
    "software": "ExampleNutch 1.0",
    "isPartOf": "EXAMPLE-CRAWL-2025-10",
    "operator": "Example Crawl Team",
    "robots": "obey",
    "http-header-user-agent": "ExampleBot/1.0 (+https://crawler.example/bot)",
}


def warcinfo_record(fields: dict[str, str]) -> bytes:
    """A WARC/1.0 warcinfo record: how the file's crawl was made (application/warc-fields)."""
    body = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
    head = (
        "WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Date: 2025-03-01T00:00:00Z\r\n"
        "WARC-Record-ID: <urn:uuid:99999999-0000-0000-0000-000000000000>\r\n"
        f"Content-Type: application/warc-fields\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body + b"\r\n\r\n"


def write_warc_gz(path: Path, records: list[bytes]) -> Path:
    """A .warc.gz as crawlers write it: one gzip member per record."""
    import gzip

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for rec in records:
            fh.write(gzip.compress(rec))
    return path


def write_key_shards(
    folder: Path, shards: int = 4, per_shard: int = 60, seed: int = 5
) -> list[Path]:
    """Dedup key files (as curate's pass 1 writes them) for generated documents with exact
    copies, near copies and chains of near copies planted across shards, and one document
    repeated in two languages. Returns the paths."""
    from openeurollm.config import DedupConfig
    from openeurollm.data.dedup.evaluate import near_duplicate
    from openeurollm.data.dedup.keys import KeyWriter
    from openeurollm.data.document import Document

    rng = random.Random(seed)
    langs = ["en", "de", "fr"]
    texts = [
        (lang, " ".join(paragraph(lang, rng) for _ in range(2)))
        for lang in (rng.choice(langs) for _ in range(shards * per_shard))
    ]
    vocab = ["alpha", "beta", "gamma", "delta", "omega"]
    for i in range(0, len(texts), 9):  # an exact copy (other casing), a near copy of it
        lang, text = texts[i]
        texts[(i + 7 * per_shard // 3) % len(texts)] = (lang, text.upper())
        copy, _ = near_duplicate(text, 0.85, rng, vocab)
        texts[(i + 5) % len(texts)] = (lang, copy)
        texts[(i + 6) % len(texts)] = ("de" if lang != "de" else "en", text)  # other language
    paths = []
    for s in range(shards):
        writer = KeyWriter(DedupConfig())
        for lang, text in texts[s * per_shard : (s + 1) * per_shard]:
            writer.add(Document.new(text, lang=lang))
        paths.append(folder / f"{s:03d}.parquet")
        writer.write(paths[-1])
    return paths
