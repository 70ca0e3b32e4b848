"""Accelerators the planner knows: dense peak FLOP/s, memory, bandwidths and power, from
vendor data sheets (no sparsity). `train.metrics` reads its bf16 peaks from here too, so MFU
in a run and in a plan use the same numbers."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from openeurollm.registry import Registry


@dataclass(frozen=True)
class Device:
    name: str
    bf16_flops: float  # dense bf16 tensor-core peak (fp16 on V100)
    fp8_flops: float | None  # dense fp8 peak; None: no fp8 tensor cores
    hbm_bytes_per_s: float
    memory_gib: float
    tdp_watts: float  # board power: the planner's energy estimate assumes it is drawn throughout
    link_bytes_per_s: float  # GPU-to-GPU inside a node, one direction (NVLink, xGMI or PCIe)


DEVICES: Registry[Device] = Registry("GPU")


def _add(*args: object) -> None:
    device = Device(*args)  # type: ignore[arg-type]
    DEVICES.register(device.name)(device)


# name, bf16, fp8, HBM B/s, GiB, W, link B/s
_add("B200", 2250e12, 4500e12, 8.0e12, 180, 1000, 900e9)
_add("H200", 989e12, 1979e12, 4.8e12, 141, 700, 450e9)
_add("GH200", 989e12, 1979e12, 4.0e12, 96, 700, 450e9)
_add("H100", 989e12, 1979e12, 3.35e12, 80, 700, 450e9)  # SXM, HBM3
_add("H100 PCIe", 756e12, 1513e12, 2.0e12, 80, 350, 300e9)
_add("H100 NVL", 835e12, 1671e12, 3.9e12, 94, 400, 300e9)
# The H100s of torchtitan's published runs (Meta's Grand Teton): HBM2e at 2.4 TB/s, a 500 W
# limit, and a peak its authors place between the SXM and NVL parts: the midpoint is used.
_add("H100 HBM2e 500W", (989e12 + 835e12) / 2, (1979e12 + 1671e12) / 2, 2.4e12, 96, 500, 450e9)
_add("A100", 312e12, None, 2.039e12, 80, 400, 300e9)
# Leonardo's custom A100 with 64 GB of HBM2e (bandwidth: HBM2e at 1.6 TB/s, an estimate).
_add("A100 64GB", 312e12, None, 1.6e12, 64, 400, 300e9)
_add("L40S", 362e12, 733e12, 0.864e12, 48, 350, 32e9)
_add("L4", 121e12, 242e12, 0.3e12, 24, 72, 32e9)
_add("A10", 125e12, None, 0.6e12, 24, 150, 32e9)
_add("V100", 125e12, None, 0.9e12, 32, 300, 150e9)
_add("MI300X", 1307e12, 2615e12, 5.3e12, 192, 750, 448e9)
_add("MI300A", 981e12, 1961e12, 5.3e12, 128, 550, 448e9)
_add("MI250X", 191.5e12, None, 1.6e12, 64, 280, 100e9)  # per GCD: each GCD is one device
_add("MI250", 181e12, None, 1.6e12, 64, 250, 100e9)  # per GCD


def resolve(name: str) -> str:
    """The table's spelling of a GPU name given in any case; ValueError with a did-you-mean."""
    by_lower = {known.lower(): known for known in DEVICES.names()}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
    hint = f"; did you mean {by_lower[close[0]]!r}?" if close else ""
    raise ValueError(f"unknown GPU {name!r}{hint} (known: {', '.join(DEVICES.names())})")


def peak_table() -> dict[str, float]:
    """Name -> bf16 peak, for matching the names `torch.cuda.get_device_name` reports."""
    return {name: DEVICES.get(name).bf16_flops for name in DEVICES.names()}
