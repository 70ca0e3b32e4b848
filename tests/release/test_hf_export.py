"""The HF export loads with transformers offline and computes exactly what our model computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from openeurollm.model.hf import from_hf_state_dict, to_hf_state_dict
from openeurollm.release.hf_export import export_hf
from openeurollm.tokenizer.encoder import TextTokenizer

from ..eval.tiny import tiny_model, tiny_tokenizer

transformers = pytest.importorskip("transformers")


def _greedy(model: torch.nn.Module, ids: list[int], steps: int) -> list[int]:
    out = list(ids)
    with torch.no_grad():
        for _ in range(steps):
            out.append(int(model(torch.tensor([out]))[0, -1].argmax()))
    return out[len(ids) :]


@pytest.mark.parametrize(
    ("qk_norm", "tie", "arch"),
    [(True, True, "Qwen3ForCausalLM"), (False, False, "LlamaForCausalLM")],
)
def test_export_loads_offline_and_matches(
    tmp_path: Path, qk_norm: bool, tie: bool, arch: str
) -> None:
    tok_path = tiny_tokenizer(tmp_path / "tokenizer.json")
    tok = TextTokenizer.from_file(tok_path)
    model = tiny_model(tok.vocab_size, qk_norm=qk_norm, tie=tie)
    out = tmp_path / "release"
    # A tiny shard limit forces the sharded layout with its index.
    info = export_hf(model.state_dict(), model.args, tok_path, out, max_shard_bytes=60_000)
    assert info["architecture"] == arch
    assert (out / "model.safetensors.index.json").exists()
    assert json.loads((out / "config.json").read_text())["architectures"] == [arch]

    hf = transformers.AutoModelForCausalLM.from_pretrained(out, local_files_only=True).eval()
    assert type(hf).__name__ == arch
    hf_tok = transformers.AutoTokenizer.from_pretrained(out, local_files_only=True)
    text = "the house is small and the garden"
    ids = tok.encode(text)
    assert hf_tok(text, add_special_tokens=False)["input_ids"] == ids

    x = torch.tensor([ids, list(reversed(ids))])
    with torch.no_grad():
        ours = model(x)
        theirs = hf(input_ids=x).logits
    assert (ours - theirs).abs().max().item() <= 1e-4

    gen = hf.generate(
        torch.tensor([ids]), max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_id
    )[0, len(ids) :].tolist()
    assert gen == _greedy(model, ids, 12)[: len(gen)]
    assert len(gen) == 12 or gen[-1] == tok.eos_id


def test_state_dict_round_trip() -> None:
    model = tiny_model(300, qk_norm=True, tie=False)
    state = model.state_dict()
    back = from_hf_state_dict(to_hf_state_dict(state), model.args)
    assert back.keys() == state.keys()
    assert all(torch.equal(back[k], state[k]) for k in state)
