"""A training job: everything one training run needs, as a JSON file any launcher can hand over
(the local stage, `torchrun`, `srun torchrun` on Slurm)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openeurollm.config import Recipe
from openeurollm.io.fileio import write_json
from openeurollm.model.flavors import model_args

JOB_FILE = "job.json"


@dataclass
class Job:
    model: dict[str, Any]  # ModelArgs fields
    train: dict[str, Any]  # TrainConfig fields
    seed: int
    shards: str  # the shards stage folder (meta.json, <lang>/*.bin)
    out: str  # the train stage folder
    flavor: str = "custom"
    resume: bool = True
    meta: dict[str, Any] = field(default_factory=dict)  # provenance for the record

    def save(self, path: Path) -> None:
        write_json(path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> Job:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_recipe(
        cls,
        recipe: Recipe,
        out: Path | None = None,
        shards: Path | None = None,
        resume: bool = True,
    ) -> Job:
        """The job a recipe describes; the model is sized to the shards' vocabulary."""
        run_dir = recipe.run_dir.resolve()
        shards = Path(shards or run_dir / "shards").resolve()
        out = Path(out or run_dir / "train").resolve()
        meta_path = shards / "meta.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        vocab = meta.get("vocab_size")
        args = model_args(recipe.model.flavor, recipe.model.overrides, vocab)
        if vocab is not None and args.vocab_size < int(vocab):
            raise ValueError(
                f"model.overrides.vocab_size={args.vocab_size} is smaller than the tokenizer's "
                f"vocabulary ({vocab})"
            )
        return cls(
            model=args.to_dict(),
            train=recipe.train.model_dump(mode="json"),
            seed=recipe.run.seed,
            shards=str(shards),
            out=str(out),
            flavor=recipe.model.flavor,
            resume=resume,
            meta={k: meta[k] for k in ("dtype", "vocab_size", "total_tokens") if k in meta},
        )
