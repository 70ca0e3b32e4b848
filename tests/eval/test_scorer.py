"""The batched scorer computes exactly what a plain forward pass gives, whatever the batching."""

from __future__ import annotations

import math
import random

import torch
import torch.nn.functional as F

from openeurollm.eval.bpb import bits_per_byte, document_requests
from openeurollm.eval.scorer import Scorer, split_pair_tokens
from openeurollm.tokenizer.encoder import TextTokenizer

from .tiny import synthetic_texts, tiny_model, tiny_tokenizer


def _reference(model: torch.nn.Module, tokens: list[int], n: int) -> tuple[float, bool]:
    with torch.no_grad():
        logp = F.log_softmax(model(torch.tensor([tokens[:-1]]))[0].double(), dim=-1)
    total, greedy = 0.0, True
    for p in range(len(tokens) - 1 - n, len(tokens) - 1):
        total += float(logp[p, tokens[p + 1]])
        greedy &= int(logp[p].argmax()) == tokens[p + 1]
    return total, greedy


def test_scores_match_a_plain_forward_for_any_batch_size() -> None:
    model = tiny_model(300, seed=1)
    rng = random.Random(0)
    requests = []
    for _ in range(23):
        length = rng.randint(2, 40)
        tokens = [rng.randrange(300) for _ in range(length)]
        requests.append((tokens, rng.randint(1, length - 1)))
    expected = [_reference(model, t, n) for t, n in requests]
    for batch_size in (1, 4, 64):
        got = Scorer(model, batch_size=batch_size, max_length=64).score(requests)
        for (lp, greedy), score in zip(expected, got, strict=True):
            assert math.isclose(score.logprob, lp, abs_tol=1e-4)
            assert score.greedy == greedy
    # an always-right continuation is greedy
    tokens = requests[0][0][:5]
    with torch.no_grad():
        tokens = [*tokens, int(model(torch.tensor([tokens]))[0, -1].argmax())]
    assert Scorer(model).score([(tokens, 1)])[0].greedy


def test_long_requests_are_left_truncated() -> None:
    model = tiny_model(300, seed=2)
    tokens = [random.Random(1).randrange(300) for _ in range(50)]
    got = Scorer(model, max_length=16).score([(tokens, 3)])[0]
    want = _reference(model, tokens[-17:], 3)
    assert math.isclose(got.logprob, want[0], abs_tol=1e-4)


def test_pair_split_follows_the_harness_convention(tmp_path) -> None:
    tok = TextTokenizer.from_file(tiny_tokenizer(tmp_path / "t.json"))
    (tokens, n), (tokens2, n2) = split_pair_tokens(
        tok.encode_batch, [("the house is ", "small"), ("", "the garden")], tok.eos_id
    )
    # trailing space moved into the continuation; the pair encoded as one string
    assert tokens == tok.encode("the house is small")
    assert tok.decode(tokens[-n:]) == " small"
    assert (
        tokens2[0] == tok.eos_id
        and tokens2[1:] == tok.encode("the garden")
        and n2 == len(tokens2) - 1
    )


def test_bits_per_byte_counts_every_token_once(tmp_path) -> None:
    tok = TextTokenizer.from_file(tiny_tokenizer(tmp_path / "t.json"))
    model = tiny_model(tok.vocab_size, seed=3)
    texts = synthetic_texts("de", 6, seed=5)
    ids = tok.encode_batch(texts)
    requests, owner = document_requests(ids, window=16, start_id=tok.eos_id)
    assert sum(n for _, n in requests) == sum(len(x) for x in ids)
    assert sorted(set(owner)) == list(range(len(texts)))
    result = bits_per_byte(Scorer(model, max_length=16), tok.encode_batch, texts, 16, tok.eos_id)
    nats = -sum(_reference(model, t, n)[0] for t, n in requests)
    n_bytes = sum(len(t.encode()) for t in texts)
    assert math.isclose(result["bpb"], nats / math.log(2) / n_bytes, rel_tol=1e-6)
    assert math.isclose(result["perplexity"], math.exp(nats / result["tokens"]), rel_tol=1e-6)
    assert result["docs"] == 6 and result["bytes"] == n_bytes


def test_shared_context_scoring_matches_separate_requests() -> None:
    model = tiny_model(300, seed=5, qk_norm=False, tie=False)
    rng = random.Random(3)
    groups = []
    for _ in range(9):
        ctx = [rng.randrange(300) for _ in range(rng.randint(1, 30))]
        conts = [
            [rng.randrange(300) for _ in range(rng.randint(1, 4))] for _ in range(rng.randint(2, 5))
        ]
        groups.append((ctx, conts))
    # max_length 24 sends the long groups down the truncating fallback path
    for max_length in (256, 24):
        scorer = Scorer(model, batch_size=4, max_length=max_length)
        got = scorer.score_choices(groups)
        flat = scorer.score([([*ctx, *c], len(c)) for ctx, conts in groups for c in conts])
        want = iter(flat)
        for (_, conts), scores in zip(groups, got, strict=True):
            assert len(scores) == len(conts)
            for s in scores:
                w = next(want)
                assert math.isclose(s.logprob, w.logprob, abs_tol=1e-4) and s.greedy == w.greedy
