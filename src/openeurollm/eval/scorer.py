"""Batched log-likelihood scoring of token sequences with our own model.

A request is a token list and the number of tokens at its end to score: the model reads
`tokens[:-1]` (left-truncated to `max_length`) and we sum the log-probabilities of the last
`n` tokens. Multiple-choice answers and rolling bits-per-byte windows are both requests.

Speed comes from three things: requests sorted by length so batches carry little padding,
the output head applied only at the positions that are scored (for a small model the head
is about half of the compute), and tokenization of whole batches in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from openeurollm.eval.blocks import hidden_states_at
from openeurollm.io.progress import progress
from openeurollm.model.llama import rope_tables


@dataclass(frozen=True)
class Score:
    logprob: float  # sum of log-probabilities (nats) of the scored tokens
    greedy: bool  # every scored token is the model's argmax


def hidden_states(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """The final-norm hidden states (batch, seq, dim): Transformer.forward without the head."""
    h = model.tok_embeddings(tokens)
    cos, sin = rope_tables(model.args, tokens.shape[1], tokens.device)
    for layer in model.layers:
        h = layer(h, cos, sin)
    return model.norm(h)


def output_head(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    if getattr(model, "output", None) is not None:
        return model.output(h)
    return F.linear(h, model.tok_embeddings.weight)


def tree_hidden_states(
    model: nn.Module, tokens: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Final-norm hidden states with explicit positions and attention mask (b, 1, t, t), so
    that the choices of a question share one pass over its context: each choice's tokens sit
    after the context at the context's next positions and see the context and themselves only.
    """
    return hidden_states_at(model, tokens, positions, mask)


class Scorer:
    def __init__(
        self,
        model: nn.Module,
        batch_size: int = 16,
        max_length: int = 2048,
        device: torch.device | str = "cpu",
    ) -> None:
        self.model = model.eval()
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = torch.device(device)

    def score(
        self, requests: Sequence[tuple[Sequence[int], int]], desc: str = "score"
    ) -> list[Score]:
        """Score (tokens, n) requests; results in the order given."""
        prepared = []
        for tokens, n in requests:
            if n < 1 or len(tokens) < n + 1:
                raise ValueError(f"a request needs >= 1 context token and n >= 1 (n={n})")
            # The model reads at most max_length tokens: drop context from the left.
            inp = list(tokens[-(self.max_length + 1) :])
            prepared.append((inp, min(n, len(inp) - 1)))
        order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i][0]))
        out: list[Score | None] = [None] * len(prepared)
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        with torch.inference_mode():
            for batch in progress(batches, desc=desc, unit="batch"):
                for i, result in zip(batch, self._batch([prepared[i] for i in batch]), strict=True):
                    out[i] = result
        return out  # type: ignore[return-value]

    def score_choices(
        self, groups: Sequence[tuple[Sequence[int], Sequence[Sequence[int]]]], desc: str = "score"
    ) -> list[list[Score]]:
        """Score every continuation of each (context, [continuation, ...]) group.

        The context is read once per group and every continuation attends to it (shared
        prefix): for k choices of c tokens after a context of n tokens the model reads
        n + k(c - 1) tokens instead of k(n + c). A group too long for `max_length` falls
        back to one truncated request per continuation, exactly as `score` would."""
        out: list[list[Score] | None] = [None] * len(groups)
        shared, fallback = [], []
        for g, (ctx, conts) in enumerate(groups):
            if not ctx or any(len(c) < 1 for c in conts):
                raise ValueError("a group needs a context and non-empty continuations")
            if len(ctx) + sum(len(c) - 1 for c in conts) <= self.max_length and all(
                len(ctx) + len(c) - 1 <= self.max_length for c in conts
            ):
                shared.append(g)
            else:
                fallback.append(g)
        if fallback:
            flat = [([*groups[g][0], *c], len(c)) for g in fallback for c in groups[g][1]]
            scores = iter(self.score(flat, desc=desc))
            for g in fallback:
                out[g] = [next(scores) for _ in groups[g][1]]
        width = {g: len(groups[g][0]) + sum(len(c) - 1 for c in groups[g][1]) for g in shared}
        order = sorted(shared, key=lambda g: -width[g])
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        with torch.inference_mode():
            for batch in progress(batches, desc=desc, unit="batch"):
                for g, result in zip(
                    batch, self._tree_batch([groups[g] for g in batch]), strict=True
                ):
                    out[g] = result
        return out  # type: ignore[return-value]

    def _tree_batch(
        self, groups: list[tuple[Sequence[int], Sequence[Sequence[int]]]]
    ) -> list[list[Score]]:
        widths = [len(ctx) + sum(len(c) - 1 for c in conts) for ctx, conts in groups]
        b, t = len(groups), max(widths)
        tokens = torch.zeros((b, t), dtype=torch.long)
        positions = torch.zeros((b, t), dtype=torch.long)
        causal = torch.ones((t, t), dtype=torch.bool).tril()
        mask = causal.repeat(b, 1, 1)
        rows, cols, targets, owner = [], [], [], []
        for r, (ctx, conts) in enumerate(groups):
            n = len(ctx)
            tokens[r, :n] = torch.tensor(list(ctx))
            positions[r, :n] = torch.arange(n)
            mask[r, n:, :] = False
            p = n
            for j, cont in enumerate(conts):
                m = len(cont) - 1  # the last token is only a target
                if m:
                    tokens[r, p : p + m] = torch.tensor(list(cont[:-1]))
                    positions[r, p : p + m] = torch.arange(n, n + m)
                    mask[r, p : p + m, :n] = True
                    mask[r, p : p + m, p : p + m] = causal[:m, :m]
                # predictions: from the context's last token, then from the choice's tokens
                for i, tgt in enumerate(cont):
                    rows.append(r)
                    cols.append(n - 1 if i == 0 else p + i - 1)
                    targets.append(tgt)
                    owner.append((r, j))
                p += m
            for q in range(p, t):  # padding: attend to itself only
                mask[r, q, q] = True
        h = tree_hidden_states(
            self.model,
            tokens.to(self.device),
            positions.to(self.device),
            mask[:, None].to(self.device),
        )
        picked = h[torch.tensor(rows), torch.tensor(cols)]
        logits = output_head(self.model, picked).float()
        logprobs = F.log_softmax(logits, dim=-1)
        tgt = torch.tensor(targets, device=logprobs.device)
        token_lp = logprobs.gather(1, tgt[:, None])[:, 0].double().cpu().tolist()
        hit = (logits.argmax(dim=-1) == tgt).cpu().tolist()
        sums: dict[tuple[int, int], float] = {}
        greedy: dict[tuple[int, int], bool] = {}
        for key, lp, ok in zip(owner, token_lp, hit, strict=True):
            sums[key] = sums.get(key, 0.0) + lp
            greedy[key] = greedy.get(key, True) and ok
        return [
            [Score(sums[(r, j)], greedy[(r, j)]) for j in range(len(conts))]
            for r, (_, conts) in enumerate(groups)
        ]

    def _batch(self, items: list[tuple[list[int], int]]) -> list[Score]:
        width = max(len(t) for t, _ in items) - 1
        inputs = torch.zeros((len(items), width), dtype=torch.long)
        rows, cols, targets, owner = [], [], [], []
        for r, (tokens, n) in enumerate(items):
            length = len(tokens) - 1
            inputs[r, :length] = torch.tensor(tokens[:-1])
            for p in range(length - n, length):
                rows.append(r)
                cols.append(p)
                targets.append(tokens[p + 1])
                owner.append(r)
        h = hidden_states(self.model, inputs.to(self.device))
        picked = h[torch.tensor(rows), torch.tensor(cols)]
        logits = output_head(self.model, picked).float()
        logprobs = F.log_softmax(logits, dim=-1)
        tgt = torch.tensor(targets, device=logprobs.device)
        token_lp = logprobs.gather(1, tgt[:, None])[:, 0].double().cpu()
        hit = (logits.argmax(dim=-1) == tgt).cpu()
        sums = torch.zeros(len(items), dtype=torch.float64).index_add_(
            0, torch.tensor(owner), token_lp
        )
        misses = torch.zeros(len(items), dtype=torch.long).index_add_(
            0, torch.tensor(owner), (~hit).long()
        )
        return [Score(float(sums[r]), bool(misses[r] == 0)) for r in range(len(items))]


def split_pair_tokens(
    encode_batch, pairs: Sequence[tuple[str, str]], empty_context_id: int
) -> list[tuple[list[int], int]]:
    """(context, continuation) strings -> (tokens, n) requests, the lm-evaluation-harness way:
    trailing whitespace of the context moves to the continuation, the pair is encoded as one
    string and split where the context's own encoding ends (so merges across the boundary
    are tokenized as the model saw them). An empty context is replaced by one token."""
    ctxs, wholes = [], []
    for ctx, cont in pairs:
        spaces = len(ctx) - len(ctx.rstrip())
        if spaces:
            ctx, cont = ctx[:-spaces], ctx[-spaces:] + cont
        ctxs.append(ctx)
        wholes.append(ctx + cont)
    ctx_ids = encode_batch(ctxs)
    whole_ids = encode_batch(wholes)
    out = []
    for ctx, c_ids, w_ids in zip(ctxs, ctx_ids, whole_ids, strict=True):
        if not ctx:
            out.append(([empty_context_id, *w_ids], len(w_ids)))
        else:
            # The model reads the context as encoded alone, then the continuation's tokens.
            cont = w_ids[len(c_ids) :]
            out.append(([*c_ids, *cont], len(cont)))
    return out
