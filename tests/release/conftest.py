"""Tiny models run single-threaded: on a shared 2-core machine two OpenMP threads per
process mostly wait for each other (10x slower under load, measured)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
