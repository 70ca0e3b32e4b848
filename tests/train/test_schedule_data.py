"""Learning-rate schedules and the seeded data windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openeurollm.train.data import TokenWindows
from openeurollm.train.schedule import LRSchedule

from .shards import write_shards


def test_cosine_warms_up_then_decays_to_floor() -> None:
    s = LRSchedule("cosine", steps=100, warmup_steps=10, min_lr_ratio=0.1)
    warm = [s(i) for i in range(10)]
    assert warm == sorted(warm) and warm[0] > 0 and warm[-1] < 1
    assert s(10) == pytest.approx(1.0)
    body = [s(i) for i in range(10, 101)]
    assert body == sorted(body, reverse=True)
    assert s(100) == pytest.approx(0.1) and s(55) == pytest.approx(0.55)


def test_wsd_is_flat_then_decays_linearly() -> None:
    s = LRSchedule("wsd", steps=100, warmup_steps=10, min_lr_ratio=0.0, decay_fraction=0.2)
    assert all(s(i) == 1.0 for i in range(10, 82))
    assert s(91) == pytest.approx(0.5) and s(100) == pytest.approx(0.0)
    assert LRSchedule("constant", 100, 0, 0.1)(99) == 1.0


def test_windows_are_seeded_and_cross_file_boundaries(tmp_path: Path) -> None:
    root = write_shards(tmp_path, langs=("de", "fr", "it"), tokens_per_lang=300)
    w = TokenWindows(root, seq_len=16)
    assert w.langs == ["de", "fr", "it"] and w.vocab_size == 64
    a, b = w.starts(seed=3, step=5, count=32), w.starts(seed=3, step=5, count=32)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, w.starts(seed=3, step=6, count=32))
    assert not np.array_equal(a, w.starts(seed=4, step=5, count=32))
    assert a.min() >= 0 and a.max() <= w.total - 17
    files = sorted(root.glob("*/*.bin"))
    assert len(files) > 3  # several files per language
    stream = np.concatenate([np.fromfile(f, dtype="<u2") for f in files])
    boundary = int(w.offsets[1]) - 5  # a window that spans two files
    assert np.array_equal(w.read(boundary), stream[boundary : boundary + 17])
    assert np.array_equal(w.batch(a)[3], stream[a[3] : a[3] + 17])
    fr_start = sum(len(np.fromfile(f, dtype="<u2")) for f in files if f.parent.name == "de")
    counts = w.lang_counts(np.array([0, boundary, fr_start]))
    assert counts.tolist() == [32, 16, 0]


def test_too_little_data_is_a_clear_error(tmp_path: Path) -> None:
    root = write_shards(tmp_path, langs=("de",), tokens_per_lang=10)
    with pytest.raises(ValueError, match="fewer than one training window"):
        TokenWindows(root, seq_len=4096)
