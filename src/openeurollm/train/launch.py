"""Entry point for multi-process training, independent of the local pipeline:

    torchrun --nproc_per_node N -m openeurollm.train.launch --job runs/NAME/train/job.json
    srun torchrun ... -m openeurollm.train.launch --recipe recipe.yaml [--set key=value ...]

Rank, world size and rendezvous come from the environment torchrun sets (RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT, LOCAL_RANK). An existing checkpoint is resumed unless --no-resume.
Exit codes: 0 done; 75 (EXIT_REQUEUE) stopped by SIGTERM/SIGUSR1 after checkpointing, run
again to continue; 1 failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openeurollm.train.launch")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--job", type=Path, help="job.json written by the train stage")
    source.add_argument("--recipe", type=Path, help="recipe file (the run's shards must exist)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-resume", action="store_true", help="ignore existing checkpoints")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    from openeurollm.train.job import Job
    from openeurollm.train.loop import train
    from openeurollm.train.signals import EXIT_REQUEUE, Interrupted

    if args.job is not None:
        job = Job.load(args.job)
    else:
        from openeurollm.config import load_recipe

        job = Job.from_recipe(load_recipe(args.recipe, args.set))
    if args.no_resume:
        job.resume = False
    try:
        train(job)
    except Interrupted as exc:
        logging.getLogger("openeurollm").warning("train: %s", exc)
        return EXIT_REQUEUE
    return 0


if __name__ == "__main__":
    sys.exit(main())
