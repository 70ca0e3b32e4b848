"""`openeurollm` command line: thin; parses arguments and calls the pipeline."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from openeurollm import __version__
from openeurollm.errors import OpenEuroLLMError, RecipeError
from openeurollm.escape import terminal_safe
from openeurollm.pipeline.runner import DISK_ERRNOS

EXAMPLES = """\
examples:
  openeurollm run recipes/demo.yaml                      run the whole chain (reuses finished stages)
  openeurollm run recipes/demo.yaml --set train.steps=500 --set train.lr=1e-3
  openeurollm run recipes/demo.yaml --until curate       stop after a stage
  openeurollm run recipes/demo.yaml --force train        redo a stage (and what depends on it)
  openeurollm run recipes/demo.yaml --dry-run            show what would run, change nothing
  openeurollm plan recipes/demo.yaml --gpus 64 --gpu H100 --set model.flavor=9B --set train.batch_size=512
                                                         memory, speed, time, energy before submitting
  openeurollm status runs/demo                           stages, counts, durations
  openeurollm inspect runs/demo --stage curate --reason dedup_exact
  openeurollm check-inclusion runs/demo/release --url https://example.org/page
  openeurollm verify runs/demo/release                   check every release file's SHA-256
  openeurollm export megatron runs/demo out/megatron     data blend, tokenizer, model args
  openeurollm import megatron CKPT out/model --tokenizer out/megatron/tokenizer
"""


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    logger = logging.getLogger("openeurollm")
    logger.setLevel(level)
    logger.handlers.clear()
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.propagate = False


def _cmd_run(args: argparse.Namespace) -> int:
    from openeurollm.config import load_recipe
    from openeurollm.pipeline.runner import plan, run_pipeline

    recipe = load_recipe(args.recipe, args.set or [])
    force = tuple(args.force or [])
    if args.dry_run:
        print(f"run directory: {recipe.run_dir}")
        for item in plan(recipe, until=args.until, force=force):
            print(f"  {item.stage:<10} {item.action:<6} {item.reason}")
        from openeurollm.pipeline.executors import EXECUTORS

        executor = EXECUTORS.get(recipe.executor.kind)(recipe)
        describe = getattr(executor, "describe", None)
        if describe is not None:
            print(describe())
        from openeurollm.plan.plan import render_plan, slurm_plan

        training = slurm_plan(recipe)
        if training is not None:
            print(render_plan(training))
        return 0
    run_pipeline(recipe, until=args.until, force=force, recipe_path=args.recipe)
    print(f"done: {recipe.run_dir}")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from openeurollm.config import load_recipe
    from openeurollm.plan.plan import plan_recipe, render_plan

    recipe = load_recipe(args.recipe, args.set or [])
    slurm = recipe.executor.slurm
    gpus = args.gpus or slurm.nodes * slurm.gpus_per_node
    gpu = args.gpu or slurm.gpu
    if not gpus or gpu is None:
        raise RecipeError(
            "say how many GPUs of which kind: --gpus N --gpu NAME (or set "
            "executor.slurm.nodes, gpus_per_node and gpu in the recipe)"
        )
    print(render_plan(plan_recipe(recipe, gpus, gpu, args.precision)))
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from openeurollm.pipeline.status import render_status

    print(terminal_safe(render_status(Path(args.run_dir))))
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from openeurollm.pipeline.status import inspect_dropped

    # dropped documents are untrusted text: their escape sequences must not reach the terminal
    print(terminal_safe(inspect_dropped(Path(args.run_dir), args.stage, args.reason, args.n)))
    return 0


def _cmd_check_inclusion(args: argparse.Namespace) -> int:
    from openeurollm.release.cli_commands import check_inclusion

    if bool(args.url) == bool(args.text_file):
        raise OpenEuroLLMError("give exactly one of --url or --text-file")
    included, message = check_inclusion(
        Path(args.release), args.url, args.text_file and Path(args.text_file)
    )
    print(message)
    return 0 if included else 1


def _cmd_verify(args: argparse.Namespace) -> int:
    from openeurollm.release.cli_commands import verify_release

    report = verify_release(Path(args.release))
    who = (
        "This proves integrity against the listed sums, not who made the release "
        "(add --public-key; see docs/security.md)."
    )
    if args.public_key:
        from openeurollm.release.signing import verify_signature

        key = verify_signature(Path(args.release), Path(args.public_key))
        who = f"SHA256SUMS and the provenance statement are signed by {key}."
    print(
        terminal_safe(
            f"ok: {len(report.checked)} files match {report.root / 'SHA256SUMS'}, none "
            f"unlisted, no links; {report.card}. {who}"
        )
    )
    return 0


def _cmd_export_megatron(args: argparse.Namespace) -> int:
    from openeurollm.interop.megatron_export import export_megatron

    record = export_megatron(Path(args.run_dir), Path(args.out), args.vocab_divisible_by)
    print(
        f"wrote {args.out}: {len(record['blend'])} data prefixes, vocabulary "
        f"{record['vocab_size']} (padded to {record['padded_vocab_size']}), "
        f"{record['parameters_padded']:,} parameters; see {Path(args.out) / 'launch.sh'}"
    )
    return 0


def _cmd_import_megatron(args: argparse.Namespace) -> int:
    from openeurollm.interop.megatron_import import import_megatron

    args_file = Path(args.args) if args.args else None
    record = import_megatron(Path(args.checkpoint), Path(args.out), Path(args.tokenizer), args_file)
    print(
        f"wrote {args.out}: {record['architecture']}, {record['parameters']:,} parameters "
        f"from a {record['format']} checkpoint (arguments from {record['arguments_from']})"
    )
    return 0


def _cmd_recipe_reference(args: argparse.Namespace) -> int:
    from openeurollm.recipe_docs import recipe_reference

    text = recipe_reference()
    if args.check:
        current = Path(args.out).read_text(encoding="utf-8") if Path(args.out).exists() else ""
        if current != text:
            raise OpenEuroLLMError(
                f"{args.out} is out of date; regenerate it with: openeurollm recipe-reference --out {args.out}"
            )
        print(f"{args.out} is up to date")
        return 0
    if args.out == "-":
        print(text, end="")
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def _system_parser(
    sub: argparse._SubParsersAction, verb: str, verb_help: str, megatron_help: str
) -> argparse.ArgumentParser:
    """`openeurollm VERB megatron ...`: the parser of the one system supported so far."""
    systems = sub.add_parser(verb, help=verb_help).add_subparsers(
        dest="system", required=True, metavar="SYSTEM"
    )
    return systems.add_parser("megatron", help=megatron_help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openeurollm",
        description="Raw multilingual text to a documented, EU-AI-Act-ready model release, from one recipe.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"openeurollm {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a recipe (finished stages are reused)", epilog=EXAMPLES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    run.add_argument("recipe", help="recipe YAML file")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a recipe value, e.g. train.lr=3e-4",
    )
    run.add_argument("--until", metavar="STAGE", help="stop after this stage")
    run.add_argument(
        "--force", action="append", metavar="STAGE", help="redo this stage even if unchanged"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (and generated job scripts); run nothing",
    )
    run.set_defaults(func=_cmd_run)

    plan = sub.add_parser(
        "plan",
        help="memory, throughput, time, energy and compute of a recipe's training on N GPUs",
    )
    plan.add_argument("recipe", help="recipe YAML file")
    plan.add_argument("--gpus", type=int, help="GPUs in all (default: the Slurm profile's)")
    plan.add_argument("--gpu", help="GPU model, e.g. H100, H200, A100, GH200, MI250X")
    plan.add_argument(
        "--precision",
        choices=["fp32", "bf16", "float8"],
        help="what-if precision (default: train.dtype)",
    )
    plan.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a recipe value")
    plan.set_defaults(func=_cmd_plan)

    status = sub.add_parser("status", help="table of a run's stages")
    status.add_argument("run_dir", help="run directory, e.g. runs/demo")
    status.set_defaults(func=_cmd_status)

    inspect = sub.add_parser("inspect", help="sample documents a stage dropped, by reason")
    inspect.add_argument("run_dir")
    inspect.add_argument("--stage", default="curate")
    inspect.add_argument("--reason", help="drop reason (omit to list the reasons)")
    inspect.add_argument("-n", type=int, default=5, help="how many samples to print")
    inspect.set_defaults(func=_cmd_inspect)

    check = sub.add_parser(
        "check-inclusion", help="was a page or text used to train a released model?"
    )
    check.add_argument("release", help="release folder (holds membership.json/.filter)")
    check.add_argument("--url")
    check.add_argument("--text-file")
    check.set_defaults(func=_cmd_check_inclusion)

    verify = sub.add_parser("verify", help="check a release folder against its SHA256SUMS")
    verify.add_argument("release")
    verify.add_argument(
        "--public-key",
        help="the provider's Ed25519 public key (PEM): also check the release's signature",
    )
    verify.set_defaults(func=_cmd_verify)

    megatron_out = _system_parser(
        sub, "export", "hand a run to another training stack",
        "Megatron-LM data blend, HF tokenizer folder and model arguments",
    )  # fmt: skip
    megatron_out.add_argument("run_dir", help="run directory (shards stage finished)")
    megatron_out.add_argument("out", help="folder to write")
    megatron_out.add_argument(
        "--vocab-divisible-by", type=int, default=128, help="--make-vocab-size-divisible-by"
    )
    megatron_out.set_defaults(func=_cmd_export_megatron)

    megatron_in = _system_parser(
        sub, "import", "bring another stack's checkpoint into ours",
        "Megatron-Core GPT checkpoint -> our Hugging Face release layout",
    )  # fmt: skip
    megatron_in.add_argument("checkpoint", help="checkpoint root, iteration folder or .pt file")
    megatron_in.add_argument("out", help="folder to write (model.safetensors, config.json, ...)")
    megatron_in.add_argument(
        "--tokenizer", required=True, help="HF tokenizer folder or tokenizer.json it trained with"
    )
    megatron_in.add_argument(
        "--args", help="Megatron arguments file (default: the checkpoint's saved args)"
    )
    megatron_in.set_defaults(func=_cmd_import_megatron)

    ref = sub.add_parser(
        "recipe-reference", help="write the recipe reference generated from the schema"
    )
    ref.add_argument(
        "--out", default="docs/recipe-reference.md", help="file to write ('-' for stdout)"
    )
    ref.add_argument(
        "--check", action="store_true", help="fail if the file differs from the schema"
    )
    ref.set_defaults(func=_cmd_recipe_reference)
    return parser


def _not_utf8(argv: Sequence[str]) -> str | None:
    """The first argument that is not UTF-8 (Python carries its bytes as surrogates, which
    cannot be written to the manifest or printed), shown escaped."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def _quiet_broken_pipe() -> int:
    # `openeurollm status | head`: the reader left. Point stdout at /dev/null so the
    # interpreter's final flush does not fail again, and exit like other tools (SIGPIPE).
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


def _os_error_line(exc: OSError) -> tuple[str, int]:
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in DISK_ERRNOS:
        where = f" while writing {exc.filename}" if exc.filename else ""
        return (
            f"{exc.strerror or 'disk full'}{where}. Nothing partial was marked done; "
            "free space (or raise the quota) and run the same command again to continue.",
            3,
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{exc.strerror}{where}: choose a run.root (or folder) you can write to", 2
    if exc.errno == errno.ENAMETOOLONG:
        return f"{exc.strerror}{where}: use a shorter run.root or run.name", 2
    return f"{exc.strerror or exc}{where}", 2


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A message that quotes odd input must print, never raise UnicodeEncodeError.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    argv = sys.argv[1:] if argv is None else list(argv)
    bad = _not_utf8(argv)
    if bad is not None:
        print(f"error: argument {bad!r} is not valid UTF-8", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(-1 if args.quiet else args.verbose)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except OpenEuroLLMError as exc:
        print(f"error: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:
        logging.getLogger("openeurollm").debug("details", exc_info=True)
        message, code = _os_error_line(exc)
        print(f"error: {message}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print(
            "interrupted; run the same command again to continue where it stopped", file=sys.stderr
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
