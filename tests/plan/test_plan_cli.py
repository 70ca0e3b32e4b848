"""`openeurollm plan` on recipes, and the plan that Slurm's --dry-run prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from openeurollm.config import load_recipe
from openeurollm.model.args import flops_per_token
from openeurollm.plan.memory import GIB
from openeurollm.plan.plan import plan_recipe, render_plan

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "recipes" / "demo.yaml"
BIG = [
    "model.flavor=9B", "tokenizer.vocab_size=128000", "train.seq_len=4096",
    "train.batch_size=512", "train.steps=2000000", "train.dtype=bf16", "train.parallel=fsdp",
    "train.compile=true", "train.activation_checkpointing=true", "train.power_watts=null",
]  # fmt: skip


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openeurollm.cli", *args], capture_output=True, text=True
    )


def test_plan_figures_follow_from_each_other() -> None:
    plan = plan_recipe(load_recipe(DEMO, BIG), gpus=256, gpu="h100")
    tokens = 2_000_000 * 512 * 4096
    assert plan.tokens == tokens
    assert plan.train_flops == pytest.approx(flops_per_token(plan.setup.args, 4096) * tokens)
    assert plan.seconds == pytest.approx(tokens / (plan.tokens_per_second_per_gpu * 256))
    assert plan.gpu_hours == pytest.approx(plan.seconds * 256 / 3600)
    assert plan.energy_kwh == pytest.approx(700 * 256 * plan.seconds / 3.6e6)  # H100 board power
    assert plan.setup.micro_batch == 2 and plan.layout.dp == 256
    # ~2.5e23 FLOP: over the indicative GPAI criterion, under the systemic-risk presumption.
    text = render_plan(plan)
    assert "above 1e+23 FLOP" in text and "below 1e+25 FLOP" in text
    assert "fits" in text and "DOES NOT FIT" not in text


def test_a_layout_that_cannot_hold_the_model_is_flagged() -> None:
    recipe = load_recipe(DEMO, [*BIG, "model.flavor=32B", "train.activation_checkpointing=false"])
    plan = plan_recipe(recipe, gpus=8, gpu="A100")
    assert plan.memory.peak > 80 * GIB
    assert "DOES NOT FIT" in render_plan(plan)


def test_cli_prints_the_plan_and_refuses_bad_input_in_one_line() -> None:
    ok = _cli("plan", str(DEMO), "--gpus", "64", "--gpu", "H200", *(f"--set={s}" for s in BIG))
    assert ok.returncode == 0, ok.stderr
    assert re.search(r"throughput +[\d,]+ tokens/s per GPU", ok.stdout)
    assert "on 64 x H200" in ok.stdout
    typo = _cli("plan", str(DEMO), "--gpus", "64", "--gpu", "H201")
    assert typo.returncode == 2 and "did you mean 'H200'" in typo.stderr
    assert len(typo.stderr.strip().splitlines()) == 1
    split = _cli("plan", str(DEMO), "--gpus", "3", "--gpu", "H100")
    assert split.returncode == 2 and "train.batch_size (16) does not split" in split.stderr
    missing = _cli("plan", str(DEMO))
    assert missing.returncode == 2 and "--gpus N --gpu NAME" in missing.stderr


def test_slurm_dry_run_prints_the_training_plan(tmp_path: Path) -> None:
    recipe = tmp_path / "lumi.yaml"
    recipe.write_text(
        f"include: {REPO / 'recipes' / 'clusters' / 'lumi.yaml'}\n"
        f"ingest: {{inputs: [{{path: {REPO / 'data' / 'demo'}}}]}}\n"
    )
    out = _cli("run", str(recipe), "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "#SBATCH" in out.stdout  # the scripts, then the plan
    assert "x MI250X" in out.stdout and "tokens/s per GPU" in out.stdout


def test_tensor_parallel_recipes_are_planned_on_their_mesh() -> None:
    recipe = load_recipe(DEMO, [*BIG, "train.tp=4", "train.nproc=4"])
    tp, flat = (
        plan_recipe(recipe, gpus=256, gpu="H100"),
        plan_recipe(load_recipe(DEMO, BIG), gpus=256, gpu="H100"),
    )
    assert (tp.layout.tp, tp.layout.dp) == (4, 64)
    assert tp.setup.micro_batch == 4 * flat.setup.micro_batch  # 64 data-parallel ranks
    assert tp.memory.activations == pytest.approx(flat.memory.activations)  # 4x batch / 4
