"""Assemble the release folder from a finished run: model, documents, membership, checksums."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from openeurollm.config import Recipe, ReleaseConfig, recipe_to_dict
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
        documentation_form,
        model_card,
        summary_versions,
    )

    return [
        ("README.md", model_card.render),
        ("datasheet.md", datasheet.render),
        ("croissant.json", croissant.render),
        ("training_content_summary.md", ai_act.render_training_summary),
        ("technical_documentation.md", ai_act.render_annex_xi),
        ("downstream_information.md", ai_act.render_annex_xii),
        ("copyright_policy.md", copyright_policy.render),
        ("model_documentation_form.md", documentation_form.render),
        ("model_documentation_form.json", documentation_form.render_json),
        (summary_versions.SUMMARY_JSON, summary_versions.render_json),
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


def open_science_files(
    out: Path,
    run_dir: Path,
    entries: Mapping[str, Mapping[str, Any]],
    cfg: ReleaseConfig,
    recipe: Recipe | None,
) -> dict[str, Any]:
    """Ship the MOF Class I components (release.open_science); each says what it shipped or
    why it is missing."""
    from openeurollm.release import open_science as science
    from openeurollm.release.samples import write_samples

    commit = (entries.get("train", {}).get("versions") or {}).get(
        "openeurollm_commit", "not recorded"
    )
    tasks = eval_task_files(recipe) if recipe else []
    shipped: dict[str, Any] = {
        "code": science.code_archive(out, commit),
        "dataset": science.ship_dataset(out, run_dir),
        "checkpoints": science.ship_checkpoints(out, run_dir),
        "eval_data": science.ship_eval_data(
            out, run_dir, tasks, recipe.base_dir if recipe else run_dir, cfg.data_license
        ),
        "training_config": science.write_training_config(out, entries),
    }
    if (run_dir / "train" / "model.safetensors").is_file():
        window = int((entries.get("train", {}).get("record") or {}).get("seq_len", 128))
        shipped["samples"] = write_samples(
            out, run_dir, cfg.sample_outputs_per_language, cfg.sample_new_tokens, window
        )
    if recipe and cfg.research_paper:
        paper = recipe.resolve(cfg.research_paper)
        science._copy(paper, out / "paper" / paper.name)
        shipped["paper"] = {"file": f"paper/{paper.name}"}
    else:
        shipped["paper"] = {"missing": "no research paper is given (release.research_paper)"}
    return shipped


def eval_task_files(recipe: Recipe) -> list[Path]:
    """Every file of the recipe's evaluation tasks (shipped as the MOF evaluation data)."""
    out = []
    for task in recipe.eval.tasks:
        path = recipe.resolve(task.path)
        out += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [p for p in out if p.is_file()]


def _export_model(out: Path, run_dir: Path, release: ReleaseConfig) -> dict[str, Any]:
    """The Hugging Face folder (weights, config, tokenizer) and the evaluation results."""
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

    return info


def _seal(
    out: Path,
    entries: Mapping[str, Mapping[str, Any]],
    release: ReleaseConfig,
    recipe: Recipe | None,
) -> tuple[Path, bool]:
    """Provenance statement, then SHA256SUMS over every file, then (with release.signing_key)
    the signature over both: each step covers the ones before it."""
    from openeurollm.release.provenance import write_provenance

    provenance = write_provenance(out, entries, recipe_to_dict(recipe) if recipe else None)
    provenance.chmod(0o644)
    sums = write_sha256sums(out)
    sums.chmod(0o644)
    if not (release.signing_key and recipe):
        return sums, False
    from openeurollm.release.signing import sign_release

    sign_release(out, recipe.resolve(release.signing_key))
    return sums, True


def build_release(
    out: Path,
    run_dir: Path,
    entries: Mapping[str, Mapping[str, Any]],
    release: ReleaseConfig,
    log: logging.Logger,
    recipe: Recipe | None = None,
) -> dict[str, Any]:
    """The release folder. `recipe` (when given) resolves the recipe's files (evaluation data,
    research paper, previous summary, signing key) and goes into the provenance statement."""
    info = _export_model(out, run_dir, release)
    lineage = run_dir / "shards" / "lineage.parquet"
    if release.membership_index and lineage.is_file():
        info["membership"] = membership_from_lineage(lineage, out)

    if release.open_science:
        info["open_science"] = open_science_files(out, run_dir, entries, release, recipe)
        if "files" in info["open_science"]["dataset"]:
            info["dataset"] = info["open_science"]["dataset"]
    if release.previous_summary and recipe:
        from openeurollm.release.summary_versions import ship_previous

        info["previous_summary"] = ship_previous(out, recipe.resolve(release.previous_summary))

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
    sums, signed = _seal(out, entries, release, recipe)
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
        "openness_missing": openness["missing"],
        "files": files,
        "checksums": sums.name,
        "date": facts.today,
        "signed": signed,
    }
