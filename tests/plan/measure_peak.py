"""Measure training steps' peak memory on CPU, in a fresh process (run as a script).

Takes a JSON list of cases; prints one JSON line with, per case, the bytes above the process's
footprint before its model was built. glibc's mmap threshold is fixed by the caller
(MALLOC_MMAP_THRESHOLD_), so freed tensors go back to the system at once and the high-water
mark is the tensors' peak, not the allocator's; writing 5 to /proc/self/clear_refs resets the
high-water mark between cases, so one process (one torch import) measures them all."""

from __future__ import annotations

import json
import sys


def _rss_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(field)


# A throwaway step first: the first step of a process also pays one-time library set-up
# (thread pools, kernel caches; tens of MB, varying run to run) that is not the step's.
WARM_UP = {
    "args": {"vocab_size": 512, "dim": 64, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2,
             "ffn_dim": 128},
    "micro_batch": 2, "seq_len": 64, "grad_accum": 2, "checkpointing": True,
}  # fmt: skip


def main() -> None:
    _measure(WARM_UP)
    print(json.dumps({"peak_bytes": [_measure(spec) for spec in json.loads(sys.argv[1])]}))


def _measure(spec: dict) -> int:
    import gc

    import torch

    from openeurollm.config import TrainConfig
    from openeurollm.model.args import ModelArgs
    from openeurollm.model.llama import Transformer
    from openeurollm.train.optim import build_optimizer, cross_entropy
    from openeurollm.train.parallel import apply_activation_checkpointing, attention_kernel

    torch.set_num_threads(1)
    torch.manual_seed(0)
    args = ModelArgs.from_dict(spec["args"])
    batch, seq, accum = spec["micro_batch"], spec["seq_len"], spec.get("grad_accum", 1)
    tokens = torch.randint(0, args.vocab_size, (accum, batch, seq + 1))
    gc.collect()
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")  # reset VmHWM to the current resident size
    before = _rss_kib("VmRSS:")
    model = Transformer(args)
    if spec.get("checkpointing"):
        apply_activation_checkpointing(model)
    opt = build_optimizer(model, TrainConfig(), torch.device("cpu"))
    with attention_kernel(torch.device("cpu")):
        for _ in range(2):  # the second step has optimizer state from the first
            for micro in tokens:
                loss = cross_entropy(model(micro[:, :-1]), micro[:, 1:]) / accum
                loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    peak = (_rss_kib("VmHWM:") - before) * 1024
    del model, opt, loss
    gc.collect()
    return peak


if __name__ == "__main__":
    main()
