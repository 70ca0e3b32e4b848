"""Device figures without the device: peak FLOP/s looked up by the name a GPU reports, and
energy from NVML's energy counter, NVML power samples, configured power x time, or "not
recorded" (NVML stood in for: the real one needs an NVIDIA GPU)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from openeurollm.train import metrics
from openeurollm.train.metrics import PEAK_FLOPS, EnergyMeter, peak_flops

GPU = torch.device("cuda", 0)


class FakeNvml:
    """Answers like pynvml: energy in millijoules, power in milliwatts."""

    def __init__(self, has_counter: bool, milliwatts: int = 250_000) -> None:
        self.has_counter = has_counter
        self.milliwatts = milliwatts
        self.millijoules = 7_000_000

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: Any) -> int:
        if not self.has_counter:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return self.millijoules

    def nvmlDeviceGetPowerUsage(self, handle: Any) -> int:
        return self.milliwatts


def _meter(monkeypatch: pytest.MonkeyPatch, nvml: FakeNvml, watts: float | None) -> EnergyMeter:
    monkeypatch.setattr(metrics, "_nvml_handle", lambda device: (nvml, "handle-0"))
    return EnergyMeter(GPU, watts)


def test_energy_counter_is_read_as_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = FakeNvml(has_counter=True)
    meter = _meter(monkeypatch, nvml, watts=999.0)
    meter.start()
    nvml.millijoules += 12_345
    assert meter.joules() == pytest.approx(12.345)
    assert meter.source == "nvml energy counter"  # a sensor beats the configured power
    meter.close()


def test_power_samples_are_integrated_over_time(monkeypatch: pytest.MonkeyPatch) -> None:
    meter = _meter(monkeypatch, FakeNvml(has_counter=False, milliwatts=300_000), watts=None)
    t0 = time.monotonic()
    meter.start()
    time.sleep(2.5)  # two 1 Hz samples, then half a second since the last one
    joules = meter.joules()
    elapsed = time.monotonic() - t0
    meter.close()
    assert meter.source == "nvml power samples"
    # The first sample covers the time since start(); the time since the newest sample counts
    # at that sample's power (the fake draws a steady 300 W).
    assert joules is not None and 300 * (elapsed - 0.2) <= joules <= 300 * elapsed, joules


def test_without_a_sensor_configured_power_times_time(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_nvml(device: torch.device) -> Any:
        raise ImportError("No module named 'pynvml'")

    monkeypatch.setattr(metrics, "_nvml_handle", no_nvml)
    meter = EnergyMeter(GPU, 100.0)
    meter.start()
    time.sleep(0.3)
    joules = meter.joules()
    assert joules is not None and 25 <= joules <= 60, joules
    assert meter.source == "configured power x time"

    unknown = EnergyMeter(torch.device("cpu"), None)
    unknown.start()
    assert unknown.joules() is None and unknown.source == "not recorded"


@pytest.mark.parametrize(
    ("reported", "table_key"),
    [
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA H200", "H200"),
        ("NVIDIA GH200 480GB", "GH200"),
        ("NVIDIA A100-SXM-64GB", "A100"),  # Leonardo's; must not be read as an A10
        ("NVIDIA L40S", "L40S"),  # not an L4
        ("AMD Instinct MI250X", "MI250X"),  # not an MI250
    ],
)
def test_peak_flops_by_reported_gpu_name(
    monkeypatch: pytest.MonkeyPatch, reported: str, table_key: str
) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: reported)
    assert peak_flops(GPU, "bf16") == PEAK_FLOPS[table_key]
    assert peak_flops(GPU, "bf16", override=1e15) == 1e15  # the recipe's figure wins


def test_unknown_gpu_has_no_peak_so_no_mfu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Some Future GPU")
    assert peak_flops(GPU, "bf16") is None


def test_metrics_log_writes_valid_json_when_a_value_is_not_finite(tmp_path: Path) -> None:
    from openeurollm.train.metrics import MetricsLog

    log = MetricsLog(tmp_path / "metrics.jsonl")
    log.write({"step": 3, "loss": float("nan"), "grad_norm": float("inf"), "lr": 1e-3})
    log.close()
    row = json.loads((tmp_path / "metrics.jsonl").read_text())  # bare NaN would not parse
    assert row == {"step": 3, "loss": None, "grad_norm": None, "lr": 1e-3}
