"""The throughput model against published runs it was not fitted on (tests/plan/published_runs.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from openeurollm.model.args import ModelArgs
from openeurollm.plan.calibration import CALIBRATION_RUN, PublishedRun, efficiency, predict
from openeurollm.plan.devices import DEVICES
from openeurollm.plan.setup import Layout, Setup
from openeurollm.plan.throughput import tokens_per_second_per_gpu

FIXTURE = yaml.safe_load((Path(__file__).parent / "published_runs.yaml").read_text())


def _run(entry: dict) -> PublishedRun:
    setup = Setup(
        ModelArgs.from_dict(FIXTURE["models"][entry["model"]]),
        seq_len=entry["seq_len"],
        micro_batch=entry["micro_batch"],
        precision=entry["precision"],
        compile=entry["compile"],
        checkpointing=entry["checkpointing"],
    )
    layout = Layout(gpus=entry["gpus"], strategy="fsdp", tp=entry.get("tp", 1))
    return PublishedRun(
        entry["name"], entry["source"], setup, layout, entry["device"], entry["tps"]
    )


def test_the_calibration_run_is_reproduced_and_not_in_the_fixture() -> None:
    assert predict(CALIBRATION_RUN) == pytest.approx(CALIBRATION_RUN.tokens_per_second_per_gpu)
    assert 0.2 < efficiency() < 0.8  # a fraction of peak, not a fudge factor
    names = {entry["name"] for entry in FIXTURE["runs"]}
    assert CALIBRATION_RUN.name not in names
    assert len(names) >= 10


@pytest.mark.parametrize("entry", FIXTURE["runs"], ids=lambda e: e["name"])
def test_published_run_predicted_within_20_percent(entry: dict) -> None:
    run = _run(entry)
    predicted = predict(run)
    assert predicted / run.tokens_per_second_per_gpu == pytest.approx(1.0, abs=0.20), (
        f"{run.name}: predicted {predicted:,.0f} tokens/s per GPU, published "
        f"{run.tokens_per_second_per_gpu:,.0f} ({run.source})"
    )


def test_the_model_moves_the_way_the_hardware_does() -> None:
    base = _run(FIXTURE["runs"][1]).setup  # 8B, compile, bf16
    h100, h200 = DEVICES.get("H100"), DEVICES.get("H200")
    one_node = Layout(gpus=8)
    tps = lambda s, layout=one_node, d=h100: tokens_per_second_per_gpu(  # noqa: E731
        s, layout, d, efficiency()
    )
    eager = Setup(**{**base.__dict__, "compile": False})
    full = Setup(**{**base.__dict__, "checkpointing": "full"})
    fp8 = Setup(**{**base.__dict__, "precision": "float8"})
    assert tps(eager) < tps(base) < tps(fp8) < 2 * tps(base)
    assert tps(full) < tps(base)
    assert tps(base, d=h200) > tps(base)  # more bandwidth for the elementwise work
    # Pipeline bubble: with 4 stages and 4 micro-batches, (m + p - 1) / m = 7/4 the time.
    piped = Setup(**{**base.__dict__, "grad_accum": 4})
    ratio = tps(piped, Layout(gpus=8, pp=4)) / tps(piped, Layout(gpus=8, pp=1))
    assert ratio == pytest.approx(4 / 7, rel=0.02)
