"""Any Hugging Face causal LM folder as an evaluated model: the tokenizer and the scorer
interfaces our tasks use, so a recipe's reference models run the very same tasks, prompts
and metrics as our model (generation goes through generation.HFDecoder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from openeurollm.eval.scorer import Score
from openeurollm.io.progress import progress


class HFTokenizer:
    """encode_batch / decode / eos_id of a transformers tokenizer, no special tokens added
    (as our tokenizer and lm-eval's add_bos_token=False)."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoTokenizer

        self.backend = AutoTokenizer.from_pretrained(str(folder))
        self.eos_id = self.backend.eos_token_id
        self.pad_id = self.backend.pad_token_id or 0

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self.backend(list(texts), add_special_tokens=False)["input_ids"]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens)


class HFScorer:
    """Log-likelihood of continuations with a transformers model: every (context,
    continuation) pair read in full, right-padded batches, left-truncated to max_length."""

    def __init__(
        self, model: torch.nn.Module, batch_size: int = 16, max_length: int = 2048,
        device: torch.device | str = "cpu",
    ) -> None:  # fmt: skip
        self.model = model.eval()
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = torch.device(device)

    def score_choices(
        self, groups: Sequence[tuple[Sequence[int], Sequence[Sequence[int]]]], desc: str = "score"
    ) -> list[list[Score]]:
        flat = [
            ([*ctx, *c][-(self.max_length + 1) :], len(c)) for ctx, conts in groups for c in conts
        ]
        order = sorted(range(len(flat)), key=lambda i: -len(flat[i][0]))
        scores: list[Score | None] = [None] * len(flat)
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        with torch.inference_mode():
            for batch in progress(batches, desc=desc, unit="batch"):
                for i, s in zip(batch, self._batch([flat[i] for i in batch]), strict=True):
                    scores[i] = s
        it = iter(scores)
        return [[next(it) for _ in conts] for _, conts in groups]  # type: ignore[misc]

    def _batch(self, items: list[tuple[list[int], int]]) -> list[Score]:
        width = max(len(t) for t, _ in items) - 1
        inputs = torch.zeros((len(items), width), dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        for r, (tokens, _) in enumerate(items):
            inputs[r, : len(tokens) - 1] = torch.tensor(tokens[:-1])
            mask[r, : len(tokens) - 1] = 1
        logits = self.model(
            input_ids=inputs.to(self.device), attention_mask=mask.to(self.device)
        ).logits
        out = []
        for r, (tokens, n) in enumerate(items):
            span = logits[r, len(tokens) - 1 - n : len(tokens) - 1].float()
            target = torch.tensor(tokens[-n:], device=span.device)
            logp = F.log_softmax(span, dim=-1).gather(1, target[:, None])[:, 0]
            greedy = bool((span.argmax(dim=-1) == target).all())
            out.append(Score(float(logp.double().sum()), greedy))
        return out


def load_reference(
    folder: Path, batch_size: int, max_length: int, device: torch.device | str = "cpu"
) -> tuple[HFScorer, HFTokenizer]:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).to(device)
    return HFScorer(model, batch_size, max_length, device), HFTokenizer(folder)
