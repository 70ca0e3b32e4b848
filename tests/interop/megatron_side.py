"""The Megatron side of the interop tests, run as its own process (megatron-core keeps global
parallel state): build megatron-core's GPTModel from a Megatron arguments file the way
Megatron-LM's `core_transformer_config_from_args` does, count its parameters, compute logits,
and save it as a checkpoint.

    python megatron_side.py VOCAB_SIZE ARGS_FILE WORK_DIR [ARGS_FILE WORK_DIR ...]

Writes per WORK_DIR: facts.json (parameter count, padded vocabulary), logits.safetensors (for
tokens.safetensors), ckpt-torch/ (legacy format, with Megatron-LM-style saved args) and
ckpt-dist/ (torch_dist layout: see `save_torch_dist`).

CPU-only torch: three megatron-core calls need CUDA and are worked around with megatron-core's
own means, never by changing its code:
- GPTModel.forward -> RotaryEmbedding.get_emb moves inv_freq to torch.cuda.current_device():
  the embedding, decoder and output layer run directly, with the rotary table from
  RotaryEmbedding.get_freqs_non_repeated (what get_emb concatenates).
- DotProductAttention -> GlobalMemoryBuffer.get_tensor allocates on CUDA: the "mpu" buffer
  is pre-filled with a CPU tensor; the default causal mask is built on CUDA: an explicit
  causal mask is passed, as Megatron-LM's get_ltor_masks_and_position_ids does.
- the CUDA RNG tracker: megatron-core's inference RNG tracker (no RNG state needed).
- dist_checkpointing.save's torch_dist strategy -> FileSystemWriterAsync.preload_tensors
  calls torch.cuda.synchronize(): dist_checkpointing.save runs with a subclass of that
  strategy whose save() writes the same translated state dict with torch's synchronous
  FileSystemWriter (megatron-core still preprocesses, saves common.pt and metadata.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

from openeurollm.interop.megatron_args import padded_vocab_size, read_args_file

warnings.filterwarnings("ignore")


def build_model(flags: dict, vocab: int):  # -> (GPTModel, padded vocab)
    from megatron.core.models.gpt import GPTModel
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
    from megatron.core.transformer.transformer_config import TransformerConfig

    assert flags["normalization"] == "RMSNorm" and flags["swiglu"] is True
    heads = int(flags["num-attention-heads"])
    config = TransformerConfig(
        num_layers=int(flags["num-layers"]),
        hidden_size=int(flags["hidden-size"]),
        ffn_hidden_size=int(flags["ffn-hidden-size"]),
        num_attention_heads=heads,
        num_query_groups=int(flags["num-query-groups"]) if flags.get("group-query-attention") else heads,
        kv_channels=int(flags["kv-channels"]),
        normalization="RMSNorm",
        layernorm_epsilon=float(flags["norm-epsilon"]),
        gated_linear_unit=True,
        activation_func=torch.nn.functional.silu,
        add_bias_linear=flags.get("disable-bias-linear") is not True,
        qk_layernorm=flags.get("qk-layernorm") is True,
        attention_dropout=float(flags["attention-dropout"]),
        hidden_dropout=float(flags["hidden-dropout"]),
        init_method_std=float(flags["init-method-std"]),
        use_cpu_initialization=True,
    )  # fmt: skip
    padded = padded_vocab_size(vocab, int(flags["make-vocab-size-divisible-by"]))
    spec = get_gpt_layer_local_spec(qk_layernorm=config.qk_layernorm, normalization="RMSNorm")
    model = GPTModel(
        config=config,
        transformer_layer_spec=spec,
        vocab_size=padded,
        max_sequence_length=int(flags["max-position-embeddings"]),
        position_embedding_type=flags["position-embedding-type"],
        rotary_base=int(flags["rotary-base"]),
        rotary_percent=float(flags["rotary-percent"]),
        share_embeddings_and_output_weights=flags.get("untie-embeddings-and-output-weights") is not True,
    )  # fmt: skip
    return model, padded


@torch.no_grad()
def logits(model, tokens: torch.Tensor) -> torch.Tensor:
    """GPTModel.forward's computation on CPU (see the module docstring); (batch, seq, vocab)."""
    from megatron.core import parallel_state

    batch, seq = tokens.shape
    heads = model.config.num_attention_heads
    parallel_state.get_global_memory_buffer().buffer[("mpu", torch.float32)] = torch.empty(
        batch * heads * seq * seq
    )
    positions = torch.arange(seq)[None].expand(batch, seq)
    hidden = model.embedding(input_ids=tokens, position_ids=positions)
    freqs = model.rotary_pos_emb.get_freqs_non_repeated(seq)
    rotary = torch.cat((freqs, freqs), dim=-1)[:, None, None, :]
    causal = torch.triu(torch.ones(seq, seq), diagonal=1).bool()[None, None]
    hidden = model.decoder(hidden_states=hidden, attention_mask=causal, rotary_pos_emb=rotary)
    weight = (
        model.shared_embedding_or_output_weight()
        if model.share_embeddings_and_output_weights
        else None
    )
    out, _ = model.output_layer(hidden, weight=weight)
    return out.transpose(0, 1).contiguous()  # Megatron is sequence-first


def save_torch(model, flags: dict, root: Path) -> None:
    """Megatron-LM's legacy --ckpt-format torch layout, with its argparse `args` saved."""
    saved = {k.replace("-", "_"): v for k, v in flags.items()}
    saved["add_bias_linear"] = not saved.pop("disable_bias_linear", False)
    folder = root / "iter_0000007" / "mp_rank_00"
    folder.mkdir(parents=True)
    torch.save({"model": model.state_dict(), "args": argparse.Namespace(**saved),
                "iteration": 7, "checkpoint_version": 3.0}, folder / "model_optim_rng.pt")  # fmt: skip
    (root / "latest_checkpointed_iteration.txt").write_text("7")


def save_torch_dist(model, folder: Path) -> None:
    """megatron-core's dist_checkpointing.save with its torch_dist strategy, whose one CUDA
    call (the async writer's preload) is replaced by torch's synchronous FileSystemWriter."""
    from megatron.core import dist_checkpointing
    from megatron.core.dist_checkpointing.strategies.torch import (
        MCoreSavePlanner,
        TorchDistSaveShardedStrategy,
        _replace_state_dict_keys_with_sharded_keys,
        mcore_to_pyt_state_dict,
    )
    from torch.distributed.checkpoint import FileSystemWriter, save

    class SyncTorchDist(TorchDistSaveShardedStrategy):
        def save(self, sharded_state_dict, checkpoint_dir) -> None:
            sharded, _, _ = _replace_state_dict_keys_with_sharded_keys(sharded_state_dict, False)
            save(mcore_to_pyt_state_dict(sharded, False),
                 storage_writer=FileSystemWriter(str(checkpoint_dir)),
                 planner=MCoreSavePlanner(dedup_replicated_tensors=False, flatten_state_dict=False))  # fmt: skip

    folder.mkdir(parents=True)
    strategy = SyncTorchDist("torch_dist", 1)
    dist_checkpointing.save(model.sharded_state_dict(), str(folder), sharded_strategy=strategy)


def build_run_save(args_file: Path, vocab: int, work: Path) -> None:
    flags = read_args_file(args_file)
    torch.manual_seed(0)
    model, padded = build_model(flags, vocab)
    with torch.no_grad():  # norms start at one: random ones show a misplaced norm weight
        for name, param in model.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name:
                param.uniform_(0.5, 1.5)
    facts = {"parameters": sum(p.numel() for p in model.parameters()), "padded_vocab": padded}
    (work / "facts.json").write_text(json.dumps(facts))
    tokens = load_file(work / "tokens.safetensors")["tokens"]
    save_file({"logits": logits(model, tokens)}, work / "logits.safetensors")
    save_torch(model, flags, work / "ckpt-torch")
    save_torch_dist(model, work / "ckpt-dist")


def main() -> None:
    vocab, pairs = int(sys.argv[1]), sys.argv[2:]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=os.environ.get("MEGATRON_PORT", "29533"))
    dist.init_process_group("gloo", rank=0, world_size=1)
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel.random import initialize_rng_tracker

    parallel_state.initialize_model_parallel(1, 1)
    initialize_rng_tracker(inference_rng_tracker=True, force_reset=True)
    for args_file, work in zip(pairs[::2], pairs[1::2], strict=True):
        build_run_save(Path(args_file), vocab, Path(work))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
