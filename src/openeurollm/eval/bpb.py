"""Bits per byte on held-out text: comparable across tokenizers and languages.

bpb = (total negative log-likelihood of a text, in nats) / ln 2 / (UTF-8 bytes of the text).
Every token of a document is predicted, the first one after the end-of-document token that
separates documents in training. Long documents are cut into disjoint windows of the
training sequence length (each window conditioned on the token before it), so no position
beyond what the model was trained on is used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from openeurollm.eval.scorer import Scorer


def document_requests(
    token_lists: Sequence[Sequence[int]], window: int, start_id: int
) -> tuple[list[tuple[list[int], int]], list[int]]:
    """Rolling windows over each document: (requests, index of the document per request)."""
    requests, owner = [], []
    for d, ids in enumerate(token_lists):
        tokens = [start_id, *ids]
        for start in range(1, len(tokens), window):
            end = min(start + window, len(tokens))
            requests.append((tokens[start - 1 : end], end - start))
            owner.append(d)
    return requests, owner


def bits_per_byte(
    scorer: Scorer,
    encode_batch,
    texts: Iterable[str],
    window: int,
    start_id: int,
    desc: str = "bpb",
) -> dict[str, float | int]:
    """bpb, token perplexity and the totals they come from, for a set of texts."""
    texts = [t for t in texts if t]
    token_lists = encode_batch(texts)
    requests, _ = document_requests(token_lists, window, start_id)
    scores = scorer.score(requests, desc=desc) if requests else []
    nats = -sum(s.logprob for s in scores)
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    n_tokens = sum(len(ids) for ids in token_lists)
    return {
        "bpb": nats / math.log(2) / n_bytes if n_bytes else float("nan"),
        "perplexity": math.exp(nats / n_tokens) if n_tokens else float("nan"),
        "nats": nats,
        "bytes": n_bytes,
        "tokens": n_tokens,
        "docs": len(texts),
    }
