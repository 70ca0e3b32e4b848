"""Learning-rate schedules as multipliers of the peak rate: linear warmup, then cosine, WSD
(warmup-stable-decay) or constant."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class LRSchedule:
    """A callable step -> multiplier. A plain object (not a closure) so that LambdaLR's
    state_dict can record it and a resumed run can check it matches."""

    kind: str  # "cosine" | "wsd" | "constant"
    steps: int
    warmup_steps: int
    min_lr_ratio: float
    decay_fraction: float = 0.2

    def __call__(self, step: int) -> float:
        # `step` counts finished optimizer steps; step 0's rate is warmup's first increment.
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        if self.kind == "constant":
            return 1.0
        if self.kind == "cosine":
            span = max(1, self.steps - self.warmup_steps)
            progress = min(1.0, (step - self.warmup_steps) / span)
            cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
            return self.min_lr_ratio + (1.0 - self.min_lr_ratio) * cosine
        if self.kind == "wsd":
            decay_steps = max(1, round(self.decay_fraction * (self.steps - self.warmup_steps)))
            decay_start = self.steps - decay_steps
            if step < decay_start:
                return 1.0
            progress = min(1.0, (step - decay_start) / decay_steps)
            return 1.0 - (1.0 - self.min_lr_ratio) * progress
        raise ValueError(f"unknown schedule {self.kind!r} (known: cosine, wsd, constant)")
