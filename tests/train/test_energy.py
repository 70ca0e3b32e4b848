"""Energy accounting: NVML's energy counter, NVML power samples, configured power x time, and
"not recorded", with a stand-in for NVML (the real one needs an NVIDIA GPU)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import torch

from openeurollm.train import metrics
from openeurollm.train.metrics import EnergyMeter

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
    meter.start()
    time.sleep(2.5)  # two 1 Hz samples
    joules = meter.joules()
    meter.close()
    assert meter.source == "nvml power samples"
    assert joules is not None and 540 <= joules <= 780, joules  # 300 W x about 2 s


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
