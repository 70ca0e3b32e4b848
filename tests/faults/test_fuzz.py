"""Fuzzing with hypothesis: hostile recipes and input files raise only our documented errors."""

from __future__ import annotations

import contextlib
import functools
import gzip
import itertools
import json
import random
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openeurollm.config import InputSpec, apply_override, recipe_from_dict
from openeurollm.data.document import Document
from openeurollm.data.readers import Quarantined
from openeurollm.data.readers.jsonl import read_jsonl
from openeurollm.data.readers.warc import read_warc
from openeurollm.errors import OpenEuroLLMError, RecipeError

from .conftest import FAULTS

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
SECTIONS = [
    "run",
    "executor",
    "ingest",
    "curate",
    "mix",
    "tokenizer",
    "shards",
    "model",
    "train",
    "eval",
    "release",
]
FIELDS = ["name", "steps", "lr", "kind", "path", "inputs", "languages", "filters", "flavor", "vocab_size",
          "workers", "seed", "tasks", "params", "batch_size", "dtype", "include", "slurm"]  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True),
    st.text(max_size=20), st.sampled_from(["docs.jsonl", "*.jsonl", "debug", "slurm", "-1", "1e309"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(FIELDS), children, max_size=4),
    ),
    max_leaves=12,
)
recipes = st.dictionaries(st.sampled_from(SECTIONS), values, max_size=6)


@FUZZ
@given(data=recipes)
def test_recipe_parser_raises_only_recipe_error(tmp_path_factory, data: dict) -> None:
    FAULTS["fuzz_cases"] += 1
    base = tmp_path_factory.getbasetemp() / "fuzz-recipe"
    base.mkdir(exist_ok=True)
    (base / "docs.jsonl").write_text('{"text": "x"}\n')
    try:
        recipe_from_dict(data, base)
    except RecipeError as exc:
        assert str(exc).startswith("invalid recipe: ")
        assert "\n" not in str(exc)


@FUZZ
@given(assignment=st.text(max_size=40))
def test_overrides_raise_only_recipe_error(assignment: str) -> None:
    FAULTS["fuzz_cases"] += 1
    data: dict = {"train": {"steps": 3}}
    with contextlib.suppress(RecipeError):
        apply_override(data, assignment)


@FUZZ
@given(text=st.text(max_size=200))
def test_yaml_text_raises_only_recipe_error(tmp_path_factory, text: str) -> None:
    FAULTS["fuzz_cases"] += 1
    from openeurollm.config import load_recipe

    path = tmp_path_factory.getbasetemp() / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_recipe(path)
    except RecipeError:
        pass
    except yaml.YAMLError as exc:  # pragma: no cover - must not happen
        raise AssertionError(f"YAML error escaped: {exc}") from exc


HOSTILE_LINES = [
    b'{"text": "ok"}', b"{", b"[]", b'{"text": 5}', b"\xff\xfe", b'{"text": "\\ud800"}',
    b"\xef\xbb\xbf{}", b"\x00", b"[" * 5000, b'{"n": ' + b"9" * 5000 + b"}",
    b'{"text": "t", "url": "https://[bad-ipv6/page"}',
]  # fmt: skip
json_lines = st.lists(
    st.one_of(
        st.binary(max_size=120),
        st.builds(lambda t: json.dumps({"text": t, "lang": "de"}).encode(), st.text(max_size=50)),
        st.sampled_from(HOSTILE_LINES),
    ),
    max_size=8,
)


@FUZZ
@given(lines=json_lines, compress=st.booleans(), truncate=st.integers(0, 40))
def test_jsonl_reader_never_raises(
    tmp_path_factory, lines: list[bytes], compress: bool, truncate: int
) -> None:
    FAULTS["fuzz_cases"] += 1
    base = tmp_path_factory.getbasetemp()
    blob = b"\n".join(lines)
    path = Path(base) / ("fuzz.jsonl.gz" if compress else "fuzz.jsonl")
    if compress:
        blob = gzip.compress(blob)
        blob = blob[: max(0, len(blob) - truncate)]
    path.write_bytes(blob)
    try:
        items = list(read_jsonl(path, _spec(path, "jsonl")))
    except OpenEuroLLMError:
        return
    for item in items:
        assert isinstance(item, Document | Quarantined)
        if isinstance(item, Document):
            assert item.text.strip()


def _spec(path: Path, fmt: str) -> InputSpec:
    return InputSpec.model_construct(
        path=str(path),
        format=fmt,
        name=None,
        license=None,
        text_field="text",
        lang_field="lang",
        url_field="url",
    )


def _read_all(path: Path, fmt: str) -> None:
    from openeurollm.data.readers import READERS

    try:
        items = list(READERS.get(fmt)(path, _spec(path, fmt)))
    except OpenEuroLLMError:
        return
    assert all(isinstance(item, Document | Quarantined) for item in items)


def _valid_parquet(path: Path) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"text": f"Ein kurzer Text Nummer {i} über das Wetter.", "url": f"https://a.example/{i}"}
        for i in range(20)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path.read_bytes()


def _valid_warc(path: Path) -> bytes:
    from tests.data.helpers import warc_record, write_warc_gz

    page = "<html><head><title>t</title></head><body><p>{}</p></body></html>"
    records = [
        warc_record(f"https://b.example/{i}", page.format("Ein Absatz mit Text. " * 20), n=i)
        for i in range(3)
    ]
    write_warc_gz(path, records)
    return path.read_bytes()


mutations = st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=6)


def _mutated(base: Path, name: str, make, flips: list[tuple[int, int]], cut: int) -> Path:
    """A valid file (made once) with bytes flipped and its tail cut off."""
    good = base / f"good-{name}"
    blob = bytearray(good.read_bytes() if good.exists() else make(good))
    for offset, xor in flips:
        blob[offset % len(blob)] ^= xor
    path = base / name
    path.write_bytes(bytes(blob[: max(1, len(blob) - cut % len(blob))]))
    return path


@FUZZ
@given(flips=mutations, cut=st.integers(0, 10**6))
def test_parquet_reader_never_raises(
    tmp_path_factory, flips: list[tuple[int, int]], cut: int
) -> None:
    FAULTS["fuzz_cases"] += 1
    path = _mutated(tmp_path_factory.getbasetemp(), "fuzz.parquet", _valid_parquet, flips, cut)
    _read_all(path, "parquet")


@FUZZ
@given(flips=mutations, cut=st.integers(0, 10**6))
def test_warc_reader_never_raises(tmp_path_factory, flips: list[tuple[int, int]], cut: int) -> None:
    FAULTS["fuzz_cases"] += 1
    path = _mutated(tmp_path_factory.getbasetemp(), "fuzz.warc.gz", _valid_warc, flips, cut)
    _read_all(path, "warc")


@functools.cache
def _warc_parts(compress: bool) -> tuple[list[bytes], list[str]]:
    """Three response records (gzip members, or as stored) and the paragraph each holds."""
    from tests.data.helpers import paragraph, warc_record

    rng = random.Random(11)
    texts = [paragraph("de", rng) for _ in range(3)]
    page = "<html><head><title>t</title></head><body><p>{}</p></body></html>"
    records = [
        warc_record(f"https://c.example/{i}", page.format(t), n=i) for i, t in enumerate(texts)
    ]
    return [gzip.compress(r) if compress else r for r in records], texts


@FUZZ
@given(flips=mutations, cut=st.integers(0, 10**6), compress=st.booleans())
def test_warc_reader_accounts_for_every_record(
    tmp_path_factory, flips: list[tuple[int, int]], cut: int, compress: bool
) -> None:
    """Any flipped bytes and cut tail: every record untouched by them is read whole whatever
    came before it; each lost record that began before the cut is counted in a quarantine
    entry (one whose start marker was hit may share its neighbour's); with gzip's checksums,
    no document is a damaged record's partial or altered text."""
    FAULTS["fuzz_cases"] += 1
    parts, texts = _warc_parts(compress)
    blob = bytearray(b"".join(parts))
    hit = {offset % len(blob) for offset, _ in flips}
    for offset, xor in flips:
        blob[offset % len(blob)] ^= xor
    end = max(1, len(blob) - cut % len(blob))
    path = tmp_path_factory.getbasetemp() / ("acc.warc.gz" if compress else "acc.warc")
    path.write_bytes(bytes(blob[:end]))
    items = list(read_warc(path, _spec(path, "warc")))
    docs = [i for i in items if isinstance(i, Document)]
    bad = [i for i in items if isinstance(i, Quarantined)]
    assert len(docs) + len(bad) == len(items)
    bounds = list(itertools.accumulate(len(p) for p in parts))
    intact = {
        i
        for i, (lo, hi) in enumerate(zip([0, *bounds], bounds, strict=False))
        if hi <= end and not any(lo <= h < hi for h in hit)
    }
    found = [i for doc in docs for i, text in enumerate(texts) if text in doc.text]
    assert len(found) == len(set(found)) and set(found) >= intact
    # A record whose start marker (gzip magic; version and WARC-Type lines) is destroyed or
    # cut cannot be told from its damaged neighbour and may share its quarantine entry.
    marker = 3 if compress else len(b"WARC/1.0\r\nWARC-Type: response\r\n")
    begun = sum(1 for lo in [0, *bounds[:-1]] if lo + marker <= end)
    unmarked = sum(1 for lo in [0, *bounds[:-1]] if any(lo <= h < lo + marker for h in hit))
    assert len(docs) + sum(q.lost for q in bad) >= begun - unmarked, (docs, bad)
    if compress:
        assert len(found) == len(docs)
