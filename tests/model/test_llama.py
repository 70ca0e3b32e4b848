"""The architecture: parameter counts against the closed form, causality, and equality with the
Hugging Face Llama/Qwen3 implementations (so exported weights mean the same thing)."""

from __future__ import annotations

import pytest
import torch

from openeurollm.model.args import ModelArgs, flops_per_token, num_params
from openeurollm.model.flavors import FLAVORS, model_args
from openeurollm.model.llama import Transformer


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("flavor", FLAVORS.names())
def test_param_count_matches_closed_form(flavor: str) -> None:
    args = FLAVORS.get(flavor)
    if flavor == "debug":
        model = Transformer(args)
        assert 1_000_000 < _count(model) < 10_000_000  # "a few million"
    else:
        with torch.device("meta"):
            model = Transformer(args)
    assert _count(model) == num_params(args)
    embedding = model.tok_embeddings.weight.numel()
    assert num_params(args, embeddings=False) == _count(model) - embedding


def test_flavor_sizes_match_published_models() -> None:
    # Llama 3.2 1B and 3B, Qwen3-32B: the published parameter counts.
    assert num_params(FLAVORS.get("1B")) == 1_235_814_400
    assert num_params(FLAVORS.get("3B")) == 3_212_749_824
    assert num_params(FLAVORS.get("32B")) == 32_762_123_264
    sizes = [num_params(FLAVORS.get(f)) for f in ("debug", "125M", "350M", "1B", "3B", "9B", "32B")]
    assert sizes == sorted(sizes)


def test_overrides_and_vocab() -> None:
    args = model_args("debug", {"n_layers": 2, "rope_theta": 5e5}, vocab_size=1000)
    assert (args.n_layers, args.rope_theta, args.vocab_size) == (2, 5e5, 1000)
    assert model_args("debug", {"vocab_size": 4096}, vocab_size=1000).vocab_size == 4096
    with pytest.raises(ValueError, match="n_layer"):
        model_args("debug", {"n_layer": 2})
    with pytest.raises(ValueError, match="multiple"):
        model_args("debug", {"n_kv_heads": 4})
    with pytest.raises(KeyError, match="did you mean"):
        FLAVORS.get("debg")


def test_flops_per_token() -> None:
    args = FLAVORS.get("1B")
    dense = 6 * (num_params(args, embeddings=False) + args.vocab_size * args.dim)
    norms = 6 * (args.n_layers * 2 * args.dim + args.dim)
    attention = 12 * args.n_layers * args.n_heads * args.hd * 2048
    assert flops_per_token(args, 2048) == dense - norms + attention


@pytest.mark.parametrize("tie,qk", [(True, True), (False, False)])
def test_causal_and_finite(tie: bool, qk: bool) -> None:
    torch.manual_seed(0)
    args = ModelArgs(vocab_size=50, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=48,
                     qk_norm=qk, tie_embeddings=tie)  # fmt: skip
    model = Transformer(args)
    tokens = torch.randint(0, 50, (2, 10))
    logits = model(tokens)
    assert logits.shape == (2, 10, 50) and torch.isfinite(logits).all()
    changed = tokens.clone()
    changed[:, 7:] = (changed[:, 7:] + 1) % 50
    # Positions before the change see the same prefix, so their outputs do not move.
    assert torch.equal(model(changed)[:, :7], logits[:, :7])
    assert not torch.allclose(model(changed)[:, 7:], logits[:, 7:])


_HF_TOP = {"tok_embeddings": "model.embed_tokens", "norm": "model.norm", "output": "lm_head"}
_HF_LAYER = {
    "attention.wq": "self_attn.q_proj", "attention.wk": "self_attn.k_proj",
    "attention.wv": "self_attn.v_proj", "attention.wo": "self_attn.o_proj",
    "attention.q_norm": "self_attn.q_norm", "attention.k_norm": "self_attn.k_norm",
    "feed_forward.w1": "mlp.gate_proj", "feed_forward.w3": "mlp.up_proj",
    "feed_forward.w2": "mlp.down_proj", "attention_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}  # fmt: skip


def _hf_state_dict(model: Transformer) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in model.state_dict().items():
        module = key.removesuffix(".weight")
        if module.startswith("layers."):
            _, index, sub = module.split(".", 2)
            out[f"model.layers.{index}.{_HF_LAYER[sub]}.weight"] = value
        else:
            out[f"{_HF_TOP[module]}.weight"] = value
    return out


@pytest.mark.parametrize("qk_norm", [False, True])
def test_matches_hugging_face(qk_norm: bool) -> None:
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    args = ModelArgs(vocab_size=64, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=96,
                     rope_theta=50_000.0, norm_eps=1e-6, qk_norm=qk_norm, tie_embeddings=qk_norm)  # fmt: skip
    ours = Transformer(args)
    common = dict(
        vocab_size=64, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, intermediate_size=96, rope_theta=50_000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=qk_norm, max_position_embeddings=128, attention_bias=False,
    )  # fmt: skip
    if qk_norm:
        cfg = transformers.Qwen3Config(head_dim=16, **common)
        hf = transformers.Qwen3ForCausalLM(cfg)
    else:
        cfg = transformers.LlamaConfig(mlp_bias=False, **common)
        hf = transformers.LlamaForCausalLM(cfg)
    missing, unexpected = hf.load_state_dict(_hf_state_dict(ours), strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}
    hf.eval()
    tokens = torch.randint(0, 64, (2, 12))
    with torch.no_grad():
        torch.testing.assert_close(ours(tokens), hf(tokens).logits, rtol=1e-4, atol=1e-4)
