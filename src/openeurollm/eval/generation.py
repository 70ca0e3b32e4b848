"""Batched text generation with a key/value cache: greedy or seeded sampling, left padding,
stop sequences, for our model and for any Hugging Face causal LM folder.

Semantics follow lm-evaluation-harness's `generate_until` (HF backend) so the outputs can be
compared token for token: the context is left-truncated to `max_length - max_gen_toks`, at
most `max_gen_toks` tokens are generated, the end-of-text token ends a request, the
generated tokens are decoded without special tokens and cut at the first stop sequence.

Speed: requests sorted by length (little padding), every step reads the cache instead of the
whole prefix, and a request that has met a stop sequence leaves the batch at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from openeurollm.eval.blocks import KVCache, hidden_states_at
from openeurollm.eval.scorer import output_head
from openeurollm.io.progress import progress
from openeurollm.tokenizer.encoder import TextTokenizer


class OurDecoder:
    """Prefill and step functions for our Transformer, with a preallocated KVCache."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        self.cache = KVCache()
        self.key_mask = torch.empty(0, 0, dtype=torch.bool)
        self.next_pos = torch.empty(0, dtype=torch.long)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def prefill(self, tokens: torch.Tensor, real: torch.Tensor, max_new: int) -> torch.Tensor:
        """Left-padded tokens (b, t) and which are real (b, t) -> next-token logits (b, V)."""
        b, t = tokens.shape
        positions = (real.long().cumsum(1) - 1).clamp(min=0)
        causal = torch.ones((t, t), dtype=torch.bool, device=tokens.device).tril()
        # A padding query sees itself only, so no row of the attention is empty (NaN).
        mask = (causal & real[:, None, :]) | torch.eye(t, dtype=torch.bool, device=tokens.device)
        self.cache.allocate(self.model, b, t + max_new, self.model.tok_embeddings.weight)
        self.key_mask = torch.zeros((b, t + max_new), dtype=torch.bool, device=tokens.device)
        self.key_mask[:, :t] = real
        self.next_pos = positions[:, -1] + 1
        h = hidden_states_at(self.model, tokens, positions, mask[:, None], self.cache)
        return output_head(self.model, h[:, -1]).float()

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """One new token per row (b,) -> next-token logits (b, V)."""
        n = self.cache.length
        self.key_mask[:, n] = True
        mask = self.key_mask[:, None, None, : n + 1]
        h = hidden_states_at(self.model, tokens[:, None], self.next_pos[:, None], mask, self.cache)
        self.next_pos = self.next_pos + 1
        return output_head(self.model, h[:, -1]).float()

    def select(self, rows: torch.Tensor) -> None:
        self.cache.select(rows)
        self.key_mask = self.key_mask.index_select(0, rows)
        self.next_pos = self.next_pos.index_select(0, rows)


class HFDecoder:
    """The same two functions for a transformers causal LM (its own cache class)."""

    def __init__(self, model: nn.Module) -> None:
        import inspect

        self.model = model.eval()
        self.past = None
        # transformers 5 renamed `past_key_values` to `cache` (the old name warns, then goes).
        params = inspect.signature(model.forward).parameters
        self.cache_kw = "cache" if "cache" in params else "past_key_values"
        self.attn = torch.empty(0, 0, dtype=torch.long)
        self.next_pos = torch.empty(0, dtype=torch.long)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def prefill(self, tokens: torch.Tensor, real: torch.Tensor, max_new: int) -> torch.Tensor:
        self.attn = real.long()
        positions = (self.attn.cumsum(1) - 1).clamp(min=0)
        out = self.model(
            input_ids=tokens, attention_mask=self.attn, position_ids=positions, use_cache=True
        )
        self.past = _cache_of(out)
        self.next_pos = positions[:, -1] + 1
        return out.logits[:, -1].float()

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        self.attn = torch.cat([self.attn, self.attn.new_ones((len(tokens), 1))], dim=1)
        out = self.model(
            input_ids=tokens[:, None],
            attention_mask=self.attn,
            position_ids=self.next_pos[:, None],
            use_cache=True,
            **{self.cache_kw: self.past},
        )
        self.past = _cache_of(out)
        self.next_pos = self.next_pos + 1
        return out.logits[:, -1].float()

    def select(self, rows: torch.Tensor) -> None:
        self.past.batch_select_indices(rows)  # type: ignore[union-attr]
        self.attn = self.attn.index_select(0, rows)
        self.next_pos = self.next_pos.index_select(0, rows)


def _cache_of(out):  # type: ignore[no-untyped-def]
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values


Decoder = OurDecoder | HFDecoder


@dataclass(frozen=True)
class Sampling:
    """temperature 0: greedy. Otherwise softmax(logits / temperature) sampling, optionally
    restricted to the top_k tokens, with one generator per request seeded from (seed,
    request index), so a request's sample does not depend on how requests were batched."""

    temperature: float = 0.0
    top_k: int | None = None
    seed: int = 1234


def _next_tokens(
    logits: torch.Tensor, sampling: Sampling, generators: list[torch.Generator]
) -> torch.Tensor:
    if sampling.temperature <= 0:
        return logits.argmax(dim=-1)
    logits = logits / sampling.temperature
    if sampling.top_k:
        kth = logits.topk(min(sampling.top_k, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1).cpu()
    picks = [torch.multinomial(p, 1, generator=g) for p, g in zip(probs, generators, strict=True)]
    return torch.cat(picks).to(logits.device)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """The text before the first occurrence of any stop sequence (lm-eval's post-processing)."""
    for s in stop:
        if s:
            text = text.split(s)[0]
    return text


class Generator:
    def __init__(
        self,
        decoder: Decoder,
        decode: Callable[[list[int]], str],
        eos_id: int | None,
        pad_id: int = 0,
        batch_size: int = 16,
        max_length: int = 2048,
    ) -> None:
        self.decoder = decoder
        self.decode = decode  # token ids -> text, special tokens skipped
        self.eos_id = eos_id
        self.pad_id = pad_id
        self.batch_size = batch_size
        self.max_length = max_length

    def generate(
        self,
        contexts: Sequence[Sequence[int]],
        stop: Sequence[str] = (),
        max_gen_toks: int = 256,
        sampling: Sampling | None = None,
        desc: str = "generate",
    ) -> list[str]:
        """Continuations of tokenized contexts, cut at the first stop sequence; in order."""
        if max_gen_toks >= self.max_length:
            raise ValueError(f"max_gen_toks {max_gen_toks} leaves no room in {self.max_length}")
        sampling = sampling or Sampling()
        keep = self.max_length - max_gen_toks
        trimmed = [list(c)[-keep:] for c in contexts]
        order = sorted(range(len(trimmed)), key=lambda i: -len(trimmed[i]))
        out: list[str] = [""] * len(trimmed)
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        with torch.inference_mode():
            for batch in progress(batches, desc=desc, unit="batch"):
                texts = self._batch(
                    [trimmed[i] for i in batch], batch, stop, max_gen_toks, sampling
                )
                for i, text in zip(batch, texts, strict=True):
                    out[i] = text
        return out

    def _batch(
        self,
        contexts: list[list[int]],
        ids: list[int],
        stop: Sequence[str],
        max_new: int,
        sampling: Sampling,
    ) -> list[str]:
        device = self.decoder.device
        width = max(len(c) for c in contexts)
        tokens = torch.full((len(contexts), width), self.pad_id, dtype=torch.long)
        real = torch.zeros((len(contexts), width), dtype=torch.bool)
        for r, ctx in enumerate(contexts):
            if ctx:
                tokens[r, width - len(ctx) :] = torch.tensor(ctx)
                real[r, width - len(ctx) :] = True
        gens = [torch.Generator().manual_seed(sampling.seed * 1_000_003 + i) for i in ids]
        logits = self.decoder.prefill(tokens.to(device), real.to(device), max_new)
        generated: list[list[int]] = [[] for _ in contexts]
        active = list(range(len(contexts)))  # rows of `generated` still in the batch
        for n in range(max_new):
            nxt = _next_tokens(logits, sampling, [gens[r] for r in active]).tolist()
            still = []
            for slot, (r, tok) in enumerate(zip(active, nxt, strict=True)):
                if tok == self.eos_id:
                    continue
                generated[r].append(tok)
                if not any(s and s in self.decode(generated[r][-_lookback(stop) :]) for s in stop):
                    still.append(slot)
            if not still or n == max_new - 1:
                break
            if len(still) < len(active):
                self.decoder.select(torch.tensor(still, device=device))
                active = [active[s] for s in still]
                nxt = [nxt[s] for s in still]
            logits = self.decoder.step(torch.tensor(nxt, device=device))
        return [cut_at_stop(self.decode(g), stop) for g in generated]


def _lookback(stop: Sequence[str]) -> int:
    """Tokens to decode when testing for a stop sequence: enough for the longest one even
    at one byte per token (a stop never spans more tokens than it has bytes)."""
    return max((len(s.encode()) for s in stop), default=0) + 2


def our_generator(
    model: nn.Module, tok: TextTokenizer, batch_size: int, max_length: int
) -> Generator:
    """A Generator for our model and TextTokenizer."""
    return Generator(
        OurDecoder(model),
        lambda ids: tok.decode(ids, skip_special_tokens=True),
        tok.eos_id,
        batch_size=batch_size,
        max_length=max_length,
    )


def generator_for(scorer, tok, max_length: int | None = None) -> Generator:  # type: ignore[no-untyped-def]
    """The generator matching a task's scorer: our model, or a Hugging Face reference."""
    from openeurollm.eval.hf_model import HFScorer

    length = max_length or scorer.max_length
    if isinstance(scorer, HFScorer):
        decode = lambda ids: tok.decode(ids, skip_special_tokens=True)  # noqa: E731
        return Generator(HFDecoder(scorer.model), decode, tok.eos_id, tok.pad_id,
                         scorer.batch_size, length)  # fmt: skip
    return our_generator(scorer.model, tok, scorer.batch_size, length)


def hf_generator(
    folder: Path, batch_size: int, max_length: int, device: str = "cpu"
) -> tuple[Generator, Callable[[list[str]], list[list[int]]]]:
    """A Generator for a Hugging Face folder, and its tokenizer's batch encoder (no special
    tokens added, as lm-eval's `add_bos_token=False`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hf_tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).to(device)
    gen = Generator(
        HFDecoder(model),
        lambda ids: hf_tok.decode(ids, skip_special_tokens=True),
        hf_tok.eos_token_id,
        pad_id=hf_tok.pad_token_id or 0,
        batch_size=batch_size,
        max_length=max_length,
    )
    return gen, lambda texts: hf_tok(list(texts), add_special_tokens=False)["input_ids"]
