"""Recipe schema: typed sections with defaults that run, loading, includes and --set overrides.

A recipe is YAML. Relative paths in it are relative to the recipe file, so a recipe can be
run from any working directory. `include:` lists other recipe files (cluster profiles, for
example) merged underneath this one; the including file wins. An included file's relative
paths stay relative to the included file: they are rebased onto the including file's folder.
"""

from __future__ import annotations

import difflib
import glob
import math
import os
import re
import reprlib
import stat
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from openeurollm import EU_LANGUAGES, EXTRA_LANGUAGES
from openeurollm.bounded_yaml import (
    MAX_RECIPE_BYTES,
    YamlLimitError,
    YamlSyntaxError,
    load_bounded,
)
from openeurollm.errors import RecipeError

KNOWN_LANGUAGES = EU_LANGUAGES + EXTRA_LANGUAGES


def _wants_number(annotation: Any, value: Any) -> bool:
    """Whether `value` is a bool where `annotation` expects an int or a float (pydantic would
    take `true` as 1: `train.steps: true` is a mistake, never a step count)."""
    if annotation in (int, float):
        return isinstance(value, bool)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _wants_number(args[0], value)
    if origin in (typing.Union, types.UnionType):
        return bool not in args and any(_wants_number(a, value) for a in args)
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return any(_wants_number(args[1], v) for v in value.values())
    if origin is list and isinstance(value, list) and args:
        return any(_wants_number(args[0], v) for v in value)
    return False


class Section(BaseModel):
    """Base of every recipe section: unknown keys are errors, not silently ignored.

    Numbers are strict in every section: no bools for ints or floats, and no infinities or
    NaN (`allow_inf_nan`): `train.lr: .inf` would train a NaN model and release it.
    """

    # Docstrings under fields become their descriptions in docs/recipe-reference.md.
    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        use_attribute_docstrings=True,
        allow_inf_nan=False,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _wants_number(field.annotation, value):
            raise ValueError(f"expected a number, got a boolean ({value!r})")
        return value


def _check_languages(langs: list[str]) -> list[str]:
    for lang in langs:
        if lang not in KNOWN_LANGUAGES:
            close = difflib.get_close_matches(lang, KNOWN_LANGUAGES, n=1) if len(lang) < 20 else []
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"unknown language {_clip(lang, 40)!r}{hint} (allowed: {', '.join(KNOWN_LANGUAGES)})"
            )
    if len(set(langs)) != len(langs):
        raise ValueError("languages must not repeat")
    return langs


def _base_dir(info: ValidationInfo) -> Path:
    ctx = info.context or {}
    return Path(ctx.get("base_dir", "."))


class RunConfig(Section):
    """Where the run lives and how it is seeded."""

    name: str = Field("demo", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)
    """The run directory is `<root>/<name>` (at most 100 characters: it names folders and
    Slurm jobs, and a file name has at most 255 bytes)."""
    root: str = "runs"
    """Folder of run directories (relative to the working directory)."""
    seed: int = 1234
    """Seeds everything random: sampling, data order, initialization."""


class SlurmConfig(Section):
    """How jobs are submitted on a Slurm cluster (cluster profiles in recipes/clusters/ set these)."""

    partition: str | None = None
    """Partition for the data stages (CPU nodes)."""
    train_partition: str | None = None
    """Partition for training (GPU nodes); null: the same as `partition`."""
    account: str | None = None
    qos: str | None = None
    time: str = "02:00:00"
    """Time limit of one data array element."""
    train_time: str = "24:00:00"
    """Time limit of one training job (it requeues itself and resumes when it runs out)."""
    cpus_per_task: PositiveInt = 1
    mem: str | None = None
    """Memory per task, e.g. "8G"; null leaves the partition default."""
    array_throttle: PositiveInt = 64
    """At most this many array elements run at once (`--array=...%N`)."""
    retries: int = Field(2, ge=0)
    """Resubmissions of array elements that ended without a done-marker."""
    nodes: PositiveInt = 1
    """Training nodes."""
    gpus_per_node: int = Field(0, ge=0)
    gpu: str | None = None
    """GPU model of the training nodes, as `openeurollm plan` names it (e.g. H100, A100 64GB,
    GH200, MI250X); `run --dry-run` then prints the training plan for nodes x gpus_per_node."""
    train_cpus_per_node: PositiveInt | None = None
    """CPUs of the training job on each node (its one task runs torchrun and every rank on
    the node); null: `cpus_per_task`."""
    train_mem: str | None = None
    """Memory of the training job per node ("0": all of it); null: `mem`."""
    setup: list[str] = Field(default_factory=list)
    """Shell lines run before each task (module load, source a venv, export ...)."""
    container: str | None = None
    """Container image: tasks run inside `<runtime> exec [--nv|--rocm] IMAGE`."""
    container_runtime: Literal["apptainer", "singularity"] = "apptainer"
    gpu_vendor: Literal["nvidia", "amd"] = "nvidia"
    python: str | None = None
    """Interpreter on the compute nodes (default: the one running openeurollm; with a
    container, the image's `python3`)."""
    poll_seconds: PositiveFloat = 5.0
    """How often the runner asks squeue about its jobs."""
    signal_seconds: PositiveInt = 300
    """Slurm warns the training job (SIGUSR1) this long before its time limit."""

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from openeurollm.plan.devices import resolve

        return resolve(value)

    extra_sbatch: list[str] = Field(default_factory=list)
    """More sbatch options, e.g. ["--constraint=gpu"]."""


class ExecutorConfig(Section):
    """Who runs the tasks: a local process pool, or Slurm array jobs."""

    kind: Literal["local", "slurm"] = "local"
    workers: PositiveInt = 2
    """Processes of the local executor."""
    slurm: SlurmConfig = Field(default_factory=SlurmConfig)


class InputSpec(Section):
    """One input: a glob of files in one format."""

    path: str
    """Glob of input files, relative to the recipe (`**` allowed)."""
    format: str = "jsonl"
    """Reader: jsonl (.jsonl, .gz, .zst), parquet, warc."""
    name: str | None = None
    """Dataset name in the release documents (default: the folder name)."""
    license: str | None = None
    """License of documents that carry none of their own."""
    text_field: str = "text"
    lang_field: str = "lang"
    """Field with a language label, if the data has one (language ID checks it)."""
    url_field: str = "url"

    @field_validator("path")
    @classmethod
    def _matches_files(cls, value: str, info: ValidationInfo) -> str:
        pattern = str(_base_dir(info) / value)
        if _glob_root(pattern) == Path(pattern).anchor:
            # "/**" would walk the whole file system, here and at ingest.
            raise ValueError(f"{value!r} searches from the file system root; name a folder")
        if next(glob.iglob(pattern, recursive=True), None) is None:  # stops at the first match
            raise ValueError(f"no file matches {pattern!r}")
        return value

    @field_validator("format")
    @classmethod
    def _known_reader(cls, value: str) -> str:
        from openeurollm.data.readers import READERS

        if value not in READERS:
            raise ValueError(READERS.unknown_message(value))
        return value


def _glob_root(pattern: str) -> str:
    """The folder a glob pattern starts searching from: its parts before the first wildcard."""
    parts = Path(os.path.normpath(pattern)).parts
    wild = ("*", "?", "[")
    first_magic = next(
        (i for i, part in enumerate(parts) if any(c in part for c in wild)), len(parts)
    )
    return str(Path(*parts[:first_magic])) if first_magic else "."


class IngestConfig(Section):
    inputs: list[InputSpec] = Field(min_length=1)
    docs_per_shard: PositiveInt = 20_000
    """Documents per Parquet shard written by ingest."""


class LangIdConfig(Section):
    min_score: float = Field(0.5, ge=0.0, le=1.0)
    """Minimum probability of the predicted language (renormalized over the recipe's
    languages); also the confidence above which a non-target prediction drops a document."""
    thresholds: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default_factory=dict)
    """Per-language minimum probability, overriding min_score, e.g. {hr: 0.7}."""
    relabel: bool = True
    """A document whose label disagrees with a confident prediction of another target
    language is relabelled (False: dropped as lang_label_mismatch)."""


class FilterSpec(Section):
    name: str
    """A quality filter: gopher_quality, gopher_repetition, fineweb_lines, c4_markers."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Overrides of the filter's parameters; `languages: {fi: {...}}` overrides per language."""

    @field_validator("name")
    @classmethod
    def _known_filter(cls, value: str) -> str:
        from openeurollm.data.filters import FILTERS

        if value not in FILTERS:
            raise ValueError(FILTERS.unknown_message(value))
        return value

    @model_validator(mode="after")
    def _known_params(self) -> FilterSpec:
        from openeurollm.data.filters import FILTERS

        # Checked here, not when curate builds the filter: a parameter of the wrong type
        # would otherwise quarantine every document as a curate error.
        FILTERS.get(self.name).check_params(self.params)
        return self


PiiKind = Literal["email", "phone", "iban", "ip", "card"]


class PiiConfig(Section):
    enabled: bool = True
    kinds: list[PiiKind] = Field(default_factory=lambda: ["email", "phone", "iban", "ip", "card"])
    """What is masked, each by a typed placeholder (<EMAIL>, <PHONE>, <IBAN>, <IP>, <CARD>)."""


def _default_ai_user_agents() -> tuple[str, ...]:
    from openeurollm.data.optout import DEFAULT_AI_USER_AGENTS

    return DEFAULT_AI_USER_AGENTS


class OptOutConfig(Section):
    domain_lists: list[str] = Field(default_factory=list)
    """Files listing domains that reserved text-and-data-mining rights (one per line,
    subdomains included); applied to already collected data too."""
    robots_snapshots: list[str] = Field(default_factory=list)
    """robots.txt snapshots, JSONL: {"domain": ..., "robots_txt": ..., "fetched": ...}."""
    tdmrep_snapshots: list[str] = Field(default_factory=list)
    """/.well-known/tdmrep.json snapshots, JSONL: {"domain": ..., "tdmrep": [...]}."""
    ai_user_agents: list[str] = Field(default_factory=lambda: list(_default_ai_user_agents()))
    """A robots.txt that disallows a page to any of these user agents is a reservation."""
    page_signals: bool = True
    """Honour what a page says itself: tdm-reservation header or meta, robots noai."""
    infringing_lists: list[str] = Field(default_factory=list)
    """Files listing websites that EU or EEA courts or authorities recognised as persistently
    infringing copyright (one domain per line, subdomains included): their documents are
    dropped before the opt-out checks (GPAI Code of Practice, copyright measure 1.2)."""

    @field_validator("domain_lists", "robots_snapshots", "tdmrep_snapshots", "infringing_lists")
    @classmethod
    def _files_exist(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for item in value:
            if not (_base_dir(info) / item).is_file():
                raise ValueError(f"file not found: {str(_base_dir(info) / item)!r}")
        return value


class DedupConfig(Section):
    exact: bool = True
    """Drop documents whose normalized text (NFC, casefolded, words only) is identical."""
    near: bool = True
    """MinHash-LSH near-duplicate removal, global across all shards."""
    ngram: PositiveInt = 5
    """Word n-gram size of the MinHash shingles."""
    bands: PositiveInt = 14
    rows: PositiveInt = 8
    """LSH bands x rows (signature size = bands * rows), 14 x 8 as in FineWeb-2."""
    seed: int = 42
    scope: Literal["global", "language"] = "global"
    """global: a document and its copy in another language's data are duplicates too;
    language: clusters never cross languages (FineWeb-2 dedups per language)."""
    band_groups: PositiveInt = 2
    """Near-dup bucket tasks: the bands are split into this many groups (times key_ranges)."""
    key_ranges: PositiveInt | None = None
    """Each band group (and the exact hashes) is split into this many key ranges, one task
    each; null: one per input shard, so each task's memory stays flat as the data grows."""


class DecontamConfig(Section):
    enabled: bool = True
    ngram: PositiveInt = 13
    """Drop documents sharing a word n-gram of this size with any eval task of the recipe."""


class CurateConfig(Section):
    languages: list[str] = Field(default_factory=lambda: list(EU_LANGUAGES), min_length=1)
    """Languages kept; documents in other languages are dropped."""
    langid: LangIdConfig = Field(default_factory=LangIdConfig)
    filters: list[FilterSpec] = Field(
        default_factory=lambda: [
            FilterSpec(name="gopher_quality"),
            FilterSpec(name="gopher_repetition"),
            FilterSpec(name="fineweb_lines"),
        ]
    )
    pii: PiiConfig = Field(default_factory=PiiConfig)
    optout: OptOutConfig = Field(default_factory=OptOutConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    decontam: DecontamConfig = Field(default_factory=DecontamConfig)
    steps: list[str] = Field(
        default_factory=lambda: ["langid", "optout", "filters", "pii", "decontam"], min_length=1
    )
    """The per-document steps, in order, before dedup; a step from another installed
    package is named here like a built-in one (docs/guides/plugins.md)."""

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        return _check_languages(value)

    @field_validator("steps")
    @classmethod
    def _known_steps(cls, value: list[str]) -> list[str]:
        from openeurollm.data.steps import STEPS_REGISTRY

        for name in value:
            if name not in STEPS_REGISTRY:
                raise ValueError(STEPS_REGISTRY.unknown_message(name))
        if len(set(value)) != len(value):
            raise ValueError(f"a step is named twice: {value}")
        return value


class MixConfig(Section):
    strategy: Literal["natural", "temperature", "unimax"] = "unimax"
    """natural: every kept document once; temperature: p_lang ~ n_lang^(1/T) of the budget;
    unimax: the same budget for every language, capped at max_epochs repeats (Chung et al. 2023)."""
    temperature: PositiveFloat = 3.0
    total_bytes: PositiveInt | None = None
    """Training budget in bytes; null: as many bytes as the curated data has."""
    max_epochs: PositiveFloat = 4.0
    """No language is repeated more often than this."""
    heldout_docs_per_language: int = Field(2, ge=0)
    """Documents per language kept out of training for bits-per-byte evaluation."""
    rehydrate: dict[PositiveInt, float] | None = None
    """Upsample documents by their duplicate-cluster size (curate's meta.dup_cluster_size),
    as FineWeb-2's rehydration does: {smallest cluster size: weight}, the largest key not
    above a document's cluster size applies, e.g. {1: 1, 2: 2, 10: 3, 100: 1}. A weight
    multiplies the document's share within its language. null: every document weight 1."""

    @field_validator("rehydrate")
    @classmethod
    def _weights_from_one(cls, value: dict[int, float] | None) -> dict[int, float] | None:
        if value is not None and (1 not in value or min(value.values()) < 0):
            raise ValueError("rehydrate needs a weight for cluster size 1 and no negative weight")
        return value


# Four times the largest vocabularies in use (Gemma's 262k); the BPE trainer aborts the whole
# process (not an exception) on sizes near 2^32, so the bound is checked at load.
MAX_VOCAB_SIZE = 1 << 20


class TokenizerConfig(Section):
    vocab_size: int = Field(8000, ge=512, le=MAX_VOCAB_SIZE)
    """Vocabulary size, special tokens included (demo 8k, production 128k to 256k)."""
    min_frequency: PositiveInt = 2
    """A pair must occur this often in the training sample to be merged."""
    balance: Literal["natural", "temperature", "uniform"] = "uniform"
    """Language balance of the tokenizer's training sample (independent of the model mix)."""
    temperature: PositiveFloat = 3.0
    """For balance: temperature, shares proportional to size^(1/temperature)."""
    max_bytes_per_language: PositiveInt = 20_000_000
    """At most this many bytes of one language in the training sample."""
    parity_rounds: int = Field(3, ge=0)
    """Parity-aware retraining rounds: after each, languages that cost more tokens get more weight."""
    parity_exponent: PositiveFloat = 3.0
    """How strongly a round reweights: weight *= (cost / mean cost) ** parity_exponent."""
    aligned_path: str | None = None
    """Folder of aligned sentence files <lang>.txt (line i is the same sentence in every
    language, NTREX layout) for real parity; without it parity is a tokens-per-byte proxy."""
    aligned_dev_lines: int = Field(1200, ge=0)
    """Aligned lines [0, N) steer the parity rounds; lines from N on are the held-out report set."""
    reserved_special_tokens: int = Field(8, ge=0)
    """Special tokens reserved for chat (after bos, eos, pad)."""

    @field_validator("aligned_path")
    @classmethod
    def _aligned_folder(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not (_base_dir(info) / value).is_dir():
            raise ValueError(f"folder not found: {str(_base_dir(info) / value)!r}")
        return value


class ShardsConfig(Section):
    dtype: Literal["auto", "uint16", "int32"] = "auto"
    """Token id type on disk: uint16 when the vocabulary fits (at most 65,536 ids), else int32
    (the two Megatron's indexed datasets use for tokens)."""
    max_tokens_per_file: PositiveInt = 250_000_000
    """A language's shard is split into files of at most this many tokens (whole documents)."""


class ModelConfig(Section):
    flavor: str = "debug"
    # Field overrides on top of the flavor, e.g. {n_layers: 2}.
    overrides: dict[str, Any] = Field(default_factory=dict)

    @field_validator("flavor")
    @classmethod
    def _known_flavor(cls, value: str) -> str:
        from openeurollm.model.flavors import FLAVORS

        if value in FLAVORS:
            return value
        # "1b" means 1B: sizes are written either way.
        by_lower = {name.lower(): name for name in FLAVORS.names()}
        if value.lower() in by_lower:
            return by_lower[value.lower()]
        raise ValueError(FLAVORS.unknown_message(value))

    @field_validator("overrides")
    @classmethod
    def _known_fields(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        from openeurollm.model.flavors import FLAVORS

        for key, item in value.items():
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{str(key)[:80]}: expected a finite number, got {item}")
        flavor = info.data.get("flavor")
        if flavor in FLAVORS:
            FLAVORS.get(flavor).replace(**value)  # raises ValueError naming the bad field
        return value


class TrainConfig(Section):
    steps: PositiveInt = 300
    lr: PositiveFloat = 3e-3
    min_lr_ratio: float = Field(0.1, ge=0.0, le=1.0)
    warmup_steps: int = Field(20, ge=0)
    schedule: Literal["cosine", "wsd", "constant"] = "cosine"
    decay_fraction: float = Field(0.2, gt=0.0, le=1.0)  # wsd only
    batch_size: PositiveInt = 16  # sequences per optimizer step, all ranks together
    seq_len: PositiveInt = 128
    grad_accum: PositiveInt = 1
    grad_clip: float = Field(1.0, ge=0.0)
    weight_decay: float = Field(0.1, ge=0.0)
    beta1: float = Field(0.9, ge=0.0, lt=1.0)
    beta2: float = Field(0.95, ge=0.0, lt=1.0)
    log_every: PositiveInt = 10
    checkpoint_every: PositiveInt = 100
    keep_last: PositiveInt = 2
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["fp32", "bf16"] = "fp32"
    compile: bool = False
    compile_scope: Literal["blocks", "model"] = "blocks"
    """What `compile` compiles: each transformer block on its own (compile time stays flat in
    depth; the torchtitan choice for large models and FSDP2), or the whole model as one graph
    (embedding, norms and output head fused too: faster for small models on CPU)."""
    activation_checkpointing: bool = False
    parallel: Literal["none", "ddp", "fsdp"] = "none"
    nproc: PositiveInt = 1
    threads: int = Field(0, ge=0)  # torch intra-op threads; 0 = leave torch's default
    deterministic: bool = True
    # Power draw for energy accounting when no power sensor can be read (watts per device).
    power_watts: PositiveFloat | None = None
    peak_flops: PositiveFloat | None = None  # override the per-device peak FLOP/s table
    spike_policy: Literal["fail", "skip_batch", "rollback"] = "fail"
    """What a non-finite loss or gradient norm (or a spike, with spike_factor) does: end
    training with an error; skip that batch's update; or reload the last checkpoint and skip
    the data windows from it up to the bad one. Each event goes into the train record."""
    spike_factor: float | None = Field(None, gt=1.0)
    """A loss above this factor x the mean of the last 20 accepted losses is a spike; None:
    only non-finite losses count."""
    max_anomalies: PositiveInt = 10  # more skipped or rolled-back steps than this: fail
    watchdog_seconds: PositiveFloat | None = None
    """End the process (reason "stall", exit 75 so Slurm requeues) when no step completes
    for this long: a hung collective or a dead peer. Covers a step plus its checkpoint."""
    tp: PositiveInt = 1
    """Tensor-parallel degree (with sequence parallelism): each block's attention heads and
    MLP columns are split over this many ranks. The ranks form a (dp_shard x tp) device mesh;
    dp_shard = ranks / tp shards parameters with FSDP2 (parallel: fsdp) when above 1."""
    async_checkpoint: bool = False
    """Save checkpoints with DCP async_save: tensors are staged to memory and written while
    training goes on; the checkpoint counts (and older ones are pruned) once every rank's
    write is done."""

    @model_validator(mode="after")
    def _batch_splits(self) -> TrainConfig:
        if self.batch_size % (self.nproc * self.grad_accum):
            raise ValueError(
                f"batch_size ({self.batch_size}) must be divisible by nproc x grad_accum "
                f"({self.nproc} x {self.grad_accum}): each rank takes an equal share of "
                "every micro-batch"
            )
        return self

    @model_validator(mode="after")
    def _mesh_fits(self) -> TrainConfig:
        if self.tp == 1:
            return self
        if self.nproc % self.tp:
            raise ValueError(
                f"tp ({self.tp}) must divide nproc ({self.nproc}): the world size must be "
                "dp_shard x tp"
            )
        if self.parallel == "ddp" or (self.nproc > self.tp and self.parallel != "fsdp"):
            raise ValueError(
                f"tp ({self.tp}) with {self.nproc // self.tp} data-parallel group(s) needs "
                "parallel: fsdp (FSDP2 on the dp_shard mesh dimension), not ddp"
            )
        return self


class TaskSpec(Section):
    """One task (multiple choice or generation), generated for each of the run's languages
    found in its data."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    path: str  # data file or folder (relative to the recipe)
    # Built-in template name (mc_jsonl: generic JSONL {id, lang, question, choices, answer};
    # sib200: SIB-200 folder; translation, qa_jsonl; the published suites belebele,
    # global_mmlu, include, arcx, hellaswagx, mmlux, truthfulqax, gsm8kx, xnli, flores200)
    # or a path to a YAML template.
    template: str = "mc_jsonl"
    num_fewshot: int = Field(0, ge=0)
    seed: int | None = None  # few-shot example choice; None: run.seed
    limit: PositiveInt | None = None  # at most this many items per language
    languages: list[str] | None = None  # None: the run's languages (curate.languages)
    # Override the template's multiple-choice formulation (cloze: choice texts scored;
    # lettered: "A. ..." options in the prompt, letters scored) and headline normalization.
    formulation: Literal["cloze", "lettered"] | None = None
    normalization: Literal["none", "chars", "bytes", "tokens"] | None = None

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_languages(value)

    @field_validator("path")
    @classmethod
    def _path_exists(cls, value: str, info: ValidationInfo) -> str:
        if not (_base_dir(info) / value).exists():
            raise ValueError(f"file not found: {str(_base_dir(info) / value)!r}")
        return value


class EvalConfig(Section):
    bpb: bool = True
    tasks: list[TaskSpec] = Field(default_factory=list)
    batch_size: PositiveInt = 16
    # Bits per byte of every kept training checkpoint too (learning curves in the report).
    checkpoints: bool = True
    # Every task at every kept checkpoint too (task learning curves with intervals); costs
    # one full task evaluation per checkpoint.
    checkpoint_tasks: bool = False
    # Hugging Face model folders (relative to the recipe) evaluated on the same tasks, shown
    # beside ours as "<task>@<folder name>".
    reference_models: list[str] = Field(default_factory=list)
    max_heldout_docs: PositiveInt | None = None  # per language; None: all held-out docs
    # Also run lm-evaluation-harness (`lm_eval --model hf`) on the exported model for the
    # same tasks; needs the lm-eval package. Results are stored beside ours, marked by source.
    lm_eval: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"

    @field_validator("reference_models")
    @classmethod
    def _folders_exist(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for folder in value:
            if not (_base_dir(info) / folder / "config.json").is_file():
                raise ValueError(
                    f"not a Hugging Face model folder: {str(_base_dir(info) / folder)!r}"
                )
        return value


class DatasetStatement(Section):
    """What only the provider can say about one input dataset (keyed by its ingest name)."""

    public: bool
    """Publicly available (summary 2.1), or private from a third party (2.2)."""
    link: str | None = None
    description: str | None = None


class ReleaseConfig(Section):
    """What the release documents need from the provider: never inferred from the run."""

    model_name: str = Field("openeurollm-demo", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    version: str = "0.1.0"
    provider: str = "OpenEuroLLM demo run (not a published model)"
    license: str = "Apache-2.0"  # SPDX id of the weights' licence
    contact: str | None = None
    authorised_representative: str | None = None  # only for providers outside the EU
    release_date: str | None = None  # YYYY-MM-DD
    union_market_date: str | None = None  # date of placement on the Union market
    intended_uses: str | None = None
    out_of_scope_uses: str | None = None
    acceptable_use_policy: str | None = None  # text or URL
    distribution_channels: list[str] = Field(default_factory=list)
    code_of_practice_signatory: bool | None = None
    sme: bool | None = None
    systemic_risk: bool | None = None
    crawler_purpose: str | None = None
    """Why the crawler(s) collected the data (public summary, section 2.3)."""
    crawled_by_provider: bool | None = None
    """Whether the crawled (WARC) input was crawled by or on behalf of the provider rather
    than by a third party such as Common Crawl: the records name the crawler, not on whose
    behalf it ran."""
    commercially_licensed_data: bool | None = None
    private_third_party_data: bool | None = None
    user_data: bool | None = None
    copyright_contact: str | None = None  # rights-reservation contact / complaint channel
    copyright_policy_url: str | None = None
    homepage: str | None = None  # the release's public page (Croissant `url`)
    design_rationale: str | None = None
    hub_dataset_ids: list[str] = Field(default_factory=list)  # `datasets:` in the model card
    # Licences (SPDX ids) of the other components, for the Model Openness Framework class.
    documents_license: str | None = "CC-BY-4.0"
    code_license: str | None = "Apache-2.0"
    data_license: str | None = None
    weights_dtype: Literal["float32", "bfloat16"] = "float32"
    max_shard_bytes: PositiveInt = 5 * 2**30
    membership_index: bool = True
    datasets: dict[str, DatasetStatement] = Field(default_factory=dict)
    """Per input dataset (ingest name): public or not, link, description (summary 2.1/2.2)."""
    synthetic_data: bool | None = None
    """Whether the input holds synthetic data generated by or for the provider (summary 2.5);
    the pipeline itself generates none."""
    infringing_lists_issuer: str | None = None
    """Who issued the lists in curate.optout.infringing_lists (a court, an authority, the
    provider's own research ...), exactly as the documents should name it."""
    open_science: bool = False
    """MOF Class I: ship the source archive of the package at the recorded commit, the
    curated dataset when every document's licence allows it, the intermediate checkpoints,
    the evaluation data and sample outputs per language."""
    research_paper: str | None = None
    """A file (PDF or Markdown) describing the model, shipped under paper/ (MOF Class I)."""
    sample_outputs_per_language: NonNegativeInt = 2
    sample_new_tokens: PositiveInt = 32
    previous_summary: str | None = None
    """The previous release's summary.json: the new summary links it and states what changed
    in the training data since."""
    signing_key: str | None = None
    """An Ed25519 private key in PEM (`openssl genpkey -algorithm ed25519 -out key.pem`) that
    signs the provenance statement and SHA256SUMS; made and kept by the provider."""

    @field_validator("homepage")
    @classmethod
    def _is_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value

    @field_validator("previous_summary", "research_paper", "signing_key")
    @classmethod
    def _release_file_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not (_base_dir(info) / value).is_file():
            raise ValueError(f"file not found: {str(_base_dir(info) / value)!r}")
        return value


class ReportConfig(Section):
    title: str | None = None


class Recipe(Section):
    run: RunConfig = Field(default_factory=RunConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    ingest: IngestConfig
    curate: CurateConfig = Field(default_factory=CurateConfig)
    mix: MixConfig = Field(default_factory=MixConfig)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    shards: ShardsConfig = Field(default_factory=ShardsConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)

    _base_dir: Path = PrivateAttr(default=Path("."))

    def train_procs_per_node(self) -> int:
        """Training processes per node: one per GPU on Slurm GPU nodes, else train.nproc."""
        slurm = self.executor.slurm
        if self.executor.kind == "slurm" and slurm.gpus_per_node:
            return slurm.gpus_per_node
        return self.train.nproc

    @model_validator(mode="after")
    def _heads_split_over_tp(self) -> Recipe:
        tp = self.train.tp
        if tp == 1:
            return self
        from openeurollm.model.flavors import model_args

        args = model_args(self.model.flavor, self.model.overrides)
        for name in ("n_heads", "n_kv_heads"):
            if getattr(args, name) % tp:
                raise ValueError(
                    f"train.tp ({tp}) must divide the model's {name} ({getattr(args, name)})"
                )
        return self

    @model_validator(mode="after")
    def _batch_splits_across_slurm_ranks(self) -> Recipe:
        # Checked here, not by the job: a bad split found on the cluster costs a queue wait.
        if self.executor.kind != "slurm":
            return self
        nodes, per_node = self.executor.slurm.nodes, self.train_procs_per_node()
        if self.train.batch_size % (nodes * per_node * self.train.grad_accum):
            raise ValueError(
                f"train.batch_size ({self.train.batch_size}) must be divisible by the Slurm "
                f"training ranks x grad_accum ({nodes} node(s) x {per_node} process(es) x "
                f"{self.train.grad_accum})"
            )
        return self

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def resolve(self, path: str) -> Path:
        """A path from the recipe, made absolute against the recipe file's folder."""
        return (self._base_dir / path).resolve()

    @property
    def run_dir(self) -> Path:
        return Path(self.run.root) / self.run.name


# ---------------------------------------------------------------- loading


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# Where a recipe holds paths ("*" is every item of a list). A path is relative to the file
# that sets it, so an included base recipe in another folder still points where its author meant.
_PATH_FIELDS: tuple[tuple[str, ...], ...] = (
    ("ingest", "inputs", "*", "path"),
    ("curate", "optout", "domain_lists", "*"),
    ("curate", "optout", "robots_snapshots", "*"),
    ("curate", "optout", "tdmrep_snapshots", "*"),
    ("curate", "optout", "infringing_lists", "*"),
    ("tokenizer", "aligned_path"),
    ("eval", "tasks", "*", "path"),
    ("eval", "tasks", "*", "template"),  # only a file name; built-in names stay as they are
)


def _rebased(value: Any, field: str, src: Path, dst: Path) -> Any:
    if not isinstance(value, str) or not value or Path(value).is_absolute():
        return value
    if field == "template" and not value.endswith((".yaml", ".yml")) and "/" not in value:
        return value
    # Kept relative (not made absolute) so a run's config hash survives moving the checkout.
    return os.path.relpath(src / value, dst)


def _rebase_paths(data: Any, parts: tuple[str, ...], src: Path, dst: Path) -> Any:
    if not parts:
        return data
    head, rest = parts[0], parts[1:]
    if head == "*":
        if not isinstance(data, list):
            return data
        return [
            _rebase_paths(item, rest, src, dst) if rest else _rebased(item, head, src, dst)
            for item in data
        ]
    if not isinstance(data, dict) or head not in data:
        return data
    out = dict(data)
    out[head] = (
        _rebase_paths(data[head], rest, src, dst) if rest else _rebased(data[head], head, src, dst)
    )
    return out


MAX_INCLUDES = 32
"""Included files read while loading one recipe, all levels together (repeats count again,
so a diamond of includes cannot grow exponentially)."""


def _included(path: Path, into: Path, seen: tuple[Path, ...], budget: list[int]) -> dict[str, Any]:
    """An included recipe, its relative paths rewritten to be relative to `into`."""
    budget[0] -= 1
    if budget[0] < 0:
        raise RecipeError(f"{seen[0]}: more than {MAX_INCLUDES} included files in all")
    if path.suffix not in (".yaml", ".yml"):
        # Also keeps a mistaken `include: /etc/shadow` from being read (and quoted) at all.
        raise RecipeError(f"{seen[-1]}: include {str(path)!r} is not a .yaml or .yml file")
    data = _read_yaml(path, seen, budget)
    if path.resolve().parent != into:
        for parts in _PATH_FIELDS:
            data = _rebase_paths(data, parts, path.resolve().parent, into)
    return data


def _read_text_bounded(path: Path) -> str:
    """The file's text, if it is a regular file of at most MAX_RECIPE_BYTES of UTF-8."""
    try:
        if not path.exists():
            raise RecipeError(f"recipe file not found: {path}")
        if not stat.S_ISREG(path.stat().st_mode):
            raise RecipeError(f"recipe {path} is not a regular file")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RECIPE_BYTES + 1)
    except OSError as exc:
        raise RecipeError(f"cannot read recipe {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_RECIPE_BYTES:
        raise RecipeError(f"recipe {path} is larger than {MAX_RECIPE_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecipeError(f"recipe {path} is not UTF-8 text (byte {exc.start})") from None


def _read_yaml(
    path: Path, seen: tuple[Path, ...] = (), budget: list[int] | None = None
) -> dict[str, Any]:
    budget = [MAX_INCLUDES] if budget is None else budget
    path = path.resolve()
    if path in seen:
        raise RecipeError(f"recipe include cycle: {' -> '.join(str(p) for p in (*seen, path))}")
    try:
        data = load_bounded(_read_text_bounded(path))
    except YamlLimitError as exc:
        raise RecipeError(f"{path}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError(
            f"{path}: a recipe must be a mapping of sections, got {type(data).__name__}"
        )
    includes = data.pop("include", []) or []
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise RecipeError(f"{path}: include must be a file name or a list of file names")
    merged: dict[str, Any] = {}
    for inc in includes:
        merged = _deep_merge(
            merged, _included(path.parent / inc, path.parent, (*seen, path), budget)
        )
    return _deep_merge(merged, data)


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one `dotted.key=value` override; the value is parsed as YAML (3e-4, true, [a, b])."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise RecipeError(f"--set expects key=value, got {_short(assignment)}")
    try:
        value = load_bounded(raw) if raw.strip() else ""
    except YamlSyntaxError:
        value = raw
    except YamlLimitError as exc:
        raise RecipeError(f"--set {_clip(key, 120)}: {exc}") from None
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise RecipeError(f"--set {_clip(key, 120)}: {_short(part)} is not a section")
        node = child
    node[parts[-1]] = value


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 2, 40, 40, 4, 4


def _short(value: Any) -> str:
    """A value as a message may show it: bounded in size whatever the value holds."""
    return _SHORT.repr(value)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "recipe"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section class that owns the field at `loc` (for did-you-mean on unknown keys)."""
    model: Any = Recipe
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return model if isinstance(model, type) else None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            return None
        model = nxt
    return model


_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}\Z")


def format_validation_error(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    path = _field_path(loc)
    if first["type"] == "extra_forbidden":
        owner = _model_at(loc[:-1])
        allowed = sorted(owner.model_fields) if owner else []
        if not _NAME_LIKE.match(str(loc[-1])):
            # Not a misspelt name but a file that is no recipe (`include: /etc/shadow` parses
            # as a mapping whose key is a password line): never show such a key.
            path = _field_path(loc[:-1])
            return (
                f"{path}: a key that is not a field name (not shown; allowed: {', '.join(allowed)})"
            )
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = f"unknown field{hint} (allowed: {', '.join(allowed)})"
    else:
        msg = first["msg"].removeprefix("Value error, ")
        if "input" in first and first["type"] not in ("missing",):
            shown = _short(first["input"])
            if len(shown) <= 60 and shown.strip("'") not in msg:
                msg += f" (got {shown})"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    # A check across sections has no single location; its message names the fields itself.
    msg = _clip(msg)
    return f"{_clip(path, 120)}: {msg}{more}" if loc else f"{msg}{more}"


def recipe_from_dict(data: dict[str, Any], base_dir: Path) -> Recipe:
    try:
        recipe = Recipe.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise RecipeError(f"invalid recipe: {format_validation_error(exc)}") from None
    except OSError as exc:
        # A path check met a name the OS refuses (too long, a loop): not a crash, a bad value.
        where = _clip(str(exc.filename), 120) if exc.filename else "a path"
        raise RecipeError(f"invalid recipe: {exc.strerror or exc}: {where}") from None
    recipe._base_dir = base_dir.resolve()
    return recipe


def load_recipe(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read a recipe file (with includes) and apply `--set` overrides, then validate."""
    path = Path(path)
    data = _read_yaml(path)
    for assignment in overrides:
        apply_override(data, assignment)
    return recipe_from_dict(data, path.resolve().parent)


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    return recipe.model_dump(mode="json")
