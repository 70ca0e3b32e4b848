"""Compute accounting: FLOPs per token, peak FLOP/s per device (for MFU), energy, metrics log."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from pathlib import Path
from typing import IO, Any

import torch

from openeurollm.plan.devices import peak_table

log = logging.getLogger("openeurollm")

# Dense bf16 tensor-core peak FLOP/s per device, from the planner's device table (one set of
# numbers for run and plan). Matched as a substring of torch.cuda.get_device_name(); the
# longest match wins.
PEAK_FLOPS: dict[str, float] = peak_table()
# A rough CPU figure per thread: one AVX-512 FMA pipe pair at ~2.5 GHz (fp32), doubled for
# bf16 dot products. Only an estimate; set train.peak_flops for a measured one.
CPU_PEAK_PER_THREAD = {"fp32": 80e9, "bf16": 160e9}


def peak_flops(device: torch.device, dtype: str, override: float | None = None) -> float | None:
    """Peak FLOP/s of one device, or None when unknown (MFU is then not reported)."""
    if override:
        return float(override)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        matches = [key for key in PEAK_FLOPS if key.lower() in name.lower()]
        if not matches:
            log.warning("no peak FLOP/s known for %r; set train.peak_flops to report MFU", name)
            return None
        return PEAK_FLOPS[max(matches, key=len)]
    if device.type == "cpu":
        return CPU_PEAK_PER_THREAD[dtype] * torch.get_num_threads()
    return None


def _nvml_handle(device: torch.device) -> Any:
    import pynvml  # nvidia-ml-py; optional

    pynvml.nvmlInit()
    props = torch.cuda.get_device_properties(device)
    # NVML numbers physical devices; the PCI address survives CUDA_VISIBLE_DEVICES remapping.
    bus_id = f"{props.pci_domain_id:08X}:{props.pci_bus_id:02X}:{props.pci_device_id:02X}.0"
    return pynvml, pynvml.nvmlDeviceGetHandleByPciBusId(bus_id)


class EnergyMeter:
    """Energy of one device over the run: NVML on NVIDIA GPUs (energy counter, else 1 Hz power
    samples), otherwise the configured power draw x time, otherwise not recorded."""

    def __init__(self, device: torch.device, power_watts: float | None) -> None:
        self.power_watts = power_watts
        self.source = "not recorded"
        self._nvml: Any = None
        self._handle: Any = None
        # (joules so far, time and watts of the newest power sample): one tuple, replaced
        # whole, so joules() on another thread never sees a sum without its sample time.
        self._sampled = (0.0, 0.0, 0.0)
        self._counter_start: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        if device.type == "cuda":
            try:
                self._nvml, self._handle = _nvml_handle(device)
            except Exception as exc:  # no pynvml, no NVML, or an unsupported device
                log.info("NVML power reading unavailable (%s); using configured power", exc)

    def start(self) -> None:
        self._t0 = time.monotonic()
        if self._handle is None:
            return
        try:
            self._counter_start = self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
            self.source = "nvml energy counter"
            return
        except Exception:
            self._counter_start = None
        self.source = "nvml power samples"
        self._sampled = (0.0, self._t0, 0.0)
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            now = time.monotonic()
            try:
                watts = self._nvml.nvmlDeviceGetPowerUsage(self._handle) / 1000.0
            except Exception:
                continue
            joules, at, _ = self._sampled
            self._sampled = (joules + watts * (now - at), now, watts)

    def joules(self) -> float | None:
        """Joules spent by this device since start(), or None when nothing can be measured."""
        elapsed = time.monotonic() - self._t0
        if self._counter_start is not None:
            try:
                now = self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
                return (now - self._counter_start) / 1000.0  # mJ
            except Exception:
                return None
        if self._thread is not None:
            # Up to a second since the newest sample, at its power, so short segments count.
            joules, at, watts = self._sampled
            return joules + watts * (time.monotonic() - at)
        if self.power_watts:
            self.source = "configured power x time"
            return self.power_watts * elapsed
        return None

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()


class MetricsLog:
    """metrics.jsonl (one JSON object per logged step), plus TensorBoard when it is installed."""

    def __init__(self, path: Path, tensorboard_dir: Path | None = None) -> None:
        self.path = path
        # Open for the whole run (appending a row per logged step); closed by close().
        self._fh: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self._tb: Any = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(tensorboard_dir))
            except Exception:  # tensorboard is optional
                self._tb = None

    def write(self, row: dict[str, Any]) -> None:
        # JSON has no NaN: a non-finite value (a skipped step's loss) is written as null.
        clean = {
            k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()
        }
        self._fh.write(json.dumps(clean, sort_keys=True, allow_nan=False) + "\n")
        self._fh.flush()
        if self._tb is not None:
            for key, value in row.items():
                if key != "step" and isinstance(value, (int, float)):
                    self._tb.add_scalar(f"train/{key}", value, row["step"])

    def close(self) -> None:
        self._fh.close()
        if self._tb is not None:
            self._tb.close()
