"""Assemble the release folder from a finished run: model, documents, membership, checksums."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from openeurollm.config import ReleaseConfig
from openeurollm.errors import StageError
from openeurollm.io.fileio import atomic_open, atomic_path, file_sha256
from openeurollm.release.checksums import write_sha256sums
from openeurollm.release.facts import Facts


def _documents() -> list[tuple[str, Callable[[Facts], str]]]:
    from openeurollm.release import (
        ai_act,
        copyright_policy,
        croissant,
        datasheet,
        model_card,
    )

    return [
        ("README.md", model_card.render),
        ("datasheet.md", datasheet.render),
        ("croissant.json", croissant.render),
        ("training_content_summary.md", ai_act.render_training_summary),
        ("technical_documentation.md", ai_act.render_annex_xi),
        ("downstream_information.md", ai_act.render_annex_xii),
        ("copyright_policy.md", copyright_policy.render),
    ]


def release_date(entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The documents' date: when the newest input stage finished (stable across reruns)."""
    stamps = [str(e.get("finished_at", "")) for e in entries.values() if e.get("finished_at")]
    return max(stamps)[:10] if stamps else "1970-01-01"


def membership_from_lineage(lineage: Path, out: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from openeurollm.release.membership import MembershipIndex, hash_key, url_key

    columns = ["doc_id", "url", "hash", "unmasked_hash"]
    present = set(pq.read_schema(lineage).names)  # lineage written before unmasked_hash: none
    table = pq.read_table(lineage, columns=[c for c in columns if c in present])
    empty = [""] * table.num_rows
    docs: dict[str, tuple[str, str, str]] = {}
    for doc_id, url, content_hash, unmasked in zip(
        table.column("doc_id").to_pylist(),
        table.column("url").to_pylist(),
        table.column("hash").to_pylist(),
        table.column("unmasked_hash").to_pylist() if "unmasked_hash" in present else empty,
        strict=True,
    ):
        docs[doc_id] = (url or "", content_hash or "", unmasked or "")
    keys = [hash_key(h) for _, h, _ in docs.values() if h]
    keys += [hash_key(h) for _, _, h in docs.values() if h]  # the text before PII masking
    keys += [url_key(u) for u, _, _ in docs.values() if u]
    index = MembershipIndex.build(keys, documents=len(docs))
    index.save(out)
    return {
        "documents": index.documents,
        "keys": index.keys,
        "documents_with_url": sum(1 for u, _, _ in docs.values() if u),
        "documents_pii_masked": sum(1 for _, _, h in docs.values() if h),
        "bytes": index.size_bytes,
        "bytes_per_document": round(index.size_bytes / max(index.documents, 1), 4),
        "false_positive_rate": index.false_positive_rate,
        "algorithm": "ribbon filter",
    }


def build_release(
    out: Path,
    run_dir: Path,
    entries: Mapping[str, Mapping[str, Any]],
    release: ReleaseConfig,
    log: logging.Logger,
) -> dict[str, Any]:
    import torch
    from safetensors.torch import load_file

    from openeurollm.eval.loading import read_model_args
    from openeurollm.release.hf_export import export_hf

    train_dir = run_dir / "train"
    weights = train_dir / "model.safetensors"
    if not weights.is_file():
        raise StageError(f"{weights} is missing; rerun with --force train")
    args = read_model_args(train_dir / "model_config.json")
    state: dict[str, torch.Tensor] = load_file(str(weights))
    info: dict[str, Any] = export_hf(
        state,
        args,
        run_dir / "tokenizer" / "tokenizer.json",
        out,
        max_shard_bytes=release.max_shard_bytes,
        dtype=release.weights_dtype,
        max_position_embeddings=args.max_seq_len,
    )
    weight_files = [w for w in info["weights"] if w.endswith(".safetensors")]
    info["weights_sha256"] = (
        file_sha256(out / weight_files[0])
        if len(weight_files) == 1
        else {w: file_sha256(out / w) for w in weight_files}
    )
    results = run_dir / "eval" / "results.json"
    if results.is_file():
        with atomic_path(out / "eval_results.json") as tmp:
            shutil.copyfile(results, tmp)
        info["eval_results"] = "eval_results.json"

    lineage = run_dir / "shards" / "lineage.parquet"
    if release.membership_index and lineage.is_file():
        info["membership"] = membership_from_lineage(lineage, out)

    facts = Facts(entries, release, info, today=release_date(entries))
    documents = []
    for name, render in _documents():
        with atomic_open(out / name) as fh:
            fh.write(render(facts))
        documents.append(name)

    from openeurollm.release.model_openness import write_model_openness

    openness = write_model_openness(out, facts)
    documents.append("model_openness.yaml")
    for path in out.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            path.chmod(0o644)  # published files: readable by everyone (temporaries are 0600)
    sums = write_sha256sums(out)  # last: it covers every other file
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    files = [f for f in files if not f.startswith(".")]
    log.info(
        "release: %s, %d files, %d documents, membership %s, MOF %s",
        info["architecture"],
        len(files),
        len(documents),
        (f"{info['membership']['documents']} docs at "
         f"{info['membership']['bytes_per_document']} B/doc") if "membership" in info else "off",
        openness["class"],
    )  # fmt: skip
    return {
        "model_id": facts.model_id(),
        "model_name": release.model_name,
        "version": release.version,
        "architecture": info["architecture"],
        "parameters": info["parameters"],
        "dtype": info["dtype"],
        "weights": info["weights"],
        "weights_sha256": info["weights_sha256"],
        "tokenizer_files": info["tokenizer_files"],
        "documents": documents,
        "membership": info.get("membership"),
        "openness_class": openness["class"],
        "files": files,
        "checksums": sums.name,
        "date": facts.today,
    }
