"""Generation with the key/value cache equals plain greedy decoding with full forwards, for
our model and for its Hugging Face export, whatever the batching and padding."""

from __future__ import annotations

import random

import torch

from openeurollm.eval.generation import Sampling, cut_at_stop, hf_generator, our_generator
from openeurollm.tokenizer.encoder import TextTokenizer


def _plain_greedy(model: torch.nn.Module, ctx: list[int], n: int, eos: int) -> list[int]:
    out: list[int] = []
    with torch.no_grad():
        for _ in range(n):
            nxt = int(model(torch.tensor([ctx + out]))[0, -1].argmax())
            if nxt == eos:
                break
            out.append(nxt)
    return out


def test_cached_greedy_equals_full_forward_greedy(trained) -> None:  # type: ignore[no-untyped-def]
    model, tok_path, _ = trained
    tok = TextTokenizer.from_file(tok_path)
    rng = random.Random(0)
    contexts = [
        [rng.randrange(4, tok.vocab_size) for _ in range(rng.randint(1, 30))] for _ in range(7)
    ]
    # what the cache path decodes to, token by token, without stop sequences
    want = [tok.decode(_plain_greedy(model, c, 12, tok.eos_id), skip_special_tokens=True)
            for c in contexts]  # fmt: skip
    for batch_size in (1, 3, 8):
        gen = our_generator(model, tok, batch_size=batch_size, max_length=64)
        assert gen.generate(contexts, max_gen_toks=12) == want
    # left truncation: only the last max_length - max_gen_toks tokens are read
    long = [rng.randrange(4, tok.vocab_size) for _ in range(80)]
    got = our_generator(model, tok, 4, max_length=40).generate([long], max_gen_toks=8)
    assert got == [tok.decode(_plain_greedy(model, long[-32:], 8, tok.eos_id), True)]


def test_stop_sequences_cut_and_end_requests(trained) -> None:  # type: ignore[no-untyped-def]
    model, tok_path, _ = trained
    tok = TextTokenizer.from_file(tok_path)
    contexts = tok.encode_batch(["the house is", "das haus ist klein und", "we walk to"])
    gen = our_generator(model, tok, batch_size=2, max_length=128)
    free = gen.generate(contexts, max_gen_toks=20)
    stop = [" the", " der", "."]
    cut = gen.generate(contexts, stop=stop, max_gen_toks=20)
    assert cut == [cut_at_stop(text, stop) for text in free]
    assert any(len(c) < len(f) for c, f in zip(cut, free, strict=True))
    assert cut_at_stop("a.b\nc", ["\n", "."]) == "a"


def test_sampling_is_seeded_and_independent_of_batching(trained) -> None:  # type: ignore[no-untyped-def]
    model, tok_path, _ = trained
    tok = TextTokenizer.from_file(tok_path)
    contexts = tok.encode_batch(["the garden", "der garten ist", "la maison", "we"])

    def run(batch_size: int, seed: int) -> list[str]:
        gen = our_generator(model, tok, batch_size=batch_size, max_length=64)
        return gen.generate(contexts, max_gen_toks=10, sampling=Sampling(1.0, seed=seed))

    a = run(1, 5)
    assert a == run(4, 5) and a != run(4, 6)
    greedy = our_generator(model, tok, 4, 64).generate(contexts, max_gen_toks=10)
    assert run(4, 5) != greedy or run(4, 6) != greedy


def test_hf_folder_generates_what_our_model_does(trained) -> None:  # type: ignore[no-untyped-def]
    model, tok_path, hf_dir = trained
    tok = TextTokenizer.from_file(tok_path)
    prompts = ["the house is", "das haus", "the river and the garden is", "wir"]
    ours = our_generator(model, tok, batch_size=3, max_length=64)
    theirs, encode = hf_generator(hf_dir, batch_size=3, max_length=64)
    assert encode(prompts) == tok.encode_batch(prompts)
    want = ours.generate(tok.encode_batch(prompts), stop=["."], max_gen_toks=16)
    assert theirs.generate(encode(prompts), stop=["."], max_gen_toks=16) == want
    assert any(want)
