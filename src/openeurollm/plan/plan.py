"""A recipe's training plan on N GPUs of one kind: memory, throughput, time, energy, compute."""

from __future__ import annotations

from dataclasses import dataclass

from openeurollm.config import Recipe
from openeurollm.errors import RecipeError
from openeurollm.model.args import flops_per_token, num_params
from openeurollm.model.flavors import model_args
from openeurollm.plan.calibration import CALIBRATION_RUN, efficiency
from openeurollm.plan.devices import DEVICES, Device, resolve
from openeurollm.plan.memory import GIB, MemoryEstimate, estimate_memory
from openeurollm.plan.setup import Layout, Precision, Setup
from openeurollm.plan.throughput import tokens_per_second_per_gpu

# Training compute the AI Act's texts name: the Commission's indicative criterion for a
# general-purpose AI model, and the presumption of systemic risk (Art. 51(2)).
GPAI_INDICATIVE_FLOP = 1e23
SYSTEMIC_RISK_FLOP = 1e25


@dataclass(frozen=True)
class Plan:
    flavor: str
    params: int
    device: Device
    layout: Layout
    setup: Setup
    memory: MemoryEstimate
    tokens_per_second_per_gpu: float
    mfu: float
    tokens: int  # the recipe's budget: steps x batch x sequence length
    seconds: float
    power_watts: float
    power_source: str
    train_flops: float

    @property
    def gpu_hours(self) -> float:
        return self.seconds * self.layout.gpus / 3600

    @property
    def energy_kwh(self) -> float:
        return self.power_watts * self.layout.gpus * self.seconds / 3.6e6


def find_device(name: str) -> Device:
    try:
        return DEVICES.get(resolve(name))
    except ValueError as exc:
        raise RecipeError(str(exc)) from None


def slurm_plan(recipe: Recipe) -> Plan | None:
    """The plan of a Slurm recipe's training job, when its profile names the GPU."""
    slurm = recipe.executor.slurm
    if recipe.executor.kind != "slurm" or not slurm.gpus_per_node or slurm.gpu is None:
        return None
    return plan_recipe(recipe, slurm.nodes * slurm.gpus_per_node, slurm.gpu)


def recipe_layout(recipe: Recipe, gpus: int) -> Layout:
    train, slurm = recipe.train, recipe.executor.slurm
    strategy = "ddp" if train.parallel == "none" and gpus > 1 else train.parallel
    if train.tp > 1:
        strategy = "fsdp"  # the trainer shards the rest of the mesh with FSDP2 under TP
    try:
        return Layout(
            gpus=gpus, strategy=strategy, tp=train.tp, gpus_per_node=slurm.gpus_per_node or 8
        )
    except ValueError as exc:
        raise RecipeError(f"train.tp: {exc}") from None


def recipe_setup(recipe: Recipe, layout: Layout, precision: Precision | None = None) -> Setup:
    train = recipe.train
    ranks = layout.dp * train.grad_accum
    if train.batch_size % ranks:
        raise RecipeError(
            f"train.batch_size ({train.batch_size}) does not split over {layout.dp} "
            f"data-parallel ranks x train.grad_accum ({train.grad_accum})"
        )
    args = model_args(recipe.model.flavor, recipe.model.overrides, recipe.tokenizer.vocab_size)
    return Setup(
        args=args,
        seq_len=train.seq_len,
        micro_batch=train.batch_size // ranks,
        grad_accum=train.grad_accum,
        precision=precision or train.dtype,
        compile=train.compile,
        checkpointing="full" if train.activation_checkpointing else "none",
    )


def plan_recipe(recipe: Recipe, gpus: int, gpu: str, precision: Precision | None = None) -> Plan:
    device = find_device(gpu)
    if gpus < 1:
        raise RecipeError(f"--gpus must be at least 1, got {gpus}")
    layout = recipe_layout(recipe, gpus)
    setup = recipe_setup(recipe, layout, precision)
    if setup.precision == "float8" and device.fp8_flops is None:
        raise RecipeError(f"{device.name} has no float8 tensor cores; plan bf16 instead")
    tps = tokens_per_second_per_gpu(setup, layout, device, efficiency())
    per_token = flops_per_token(setup.args, setup.seq_len)
    train = recipe.train
    tokens = train.steps * train.batch_size * train.seq_len
    seconds = tokens / (tps * gpus)
    power, source = (
        (train.power_watts, "train.power_watts")
        if train.power_watts
        else (device.tdp_watts, f"{device.name} board power")
    )
    return Plan(
        flavor=recipe.model.flavor,
        params=num_params(setup.args),
        device=device,
        layout=layout,
        setup=setup,
        memory=estimate_memory(setup, layout),
        tokens_per_second_per_gpu=tps,
        mfu=tps * per_token / device.bf16_flops,
        tokens=tokens,
        seconds=seconds,
        power_watts=power,
        power_source=source,
        train_flops=float(per_token) * tokens,
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _hours(h: float) -> str:
    return f"{h:,.0f}" if h >= 10 else f"{h:.2g}"


def _count(n: float) -> str:
    return f"{n / 1e9:.2f} B" if n >= 1e9 else f"{n / 1e6:.1f} M"


def _energy(kwh: float) -> str:
    return f"{kwh / 1000:,.2f} MWh" if kwh >= 1000 else f"{kwh:,.3g} kWh"


def _threshold(flops: float, limit: float, what: str) -> str:
    side = "above" if flops >= limit else "below"
    return f"{side} {limit:.0e} FLOP ({what}; {flops / limit:.2g}x)"


def render_plan(p: Plan) -> str:
    m, s, lay = p.memory, p.setup, p.layout
    fits = "fits" if m.peak <= p.device.memory_gib * GIB else "DOES NOT FIT"
    gib = lambda x: f"{x / GIB:8.2f} GiB"  # noqa: E731
    ckpt = {"none": "none", "selective": "selective", "full": "every block"}[s.checkpointing]
    lines = [
        f"plan: model {p.flavor} ({_count(p.params)} parameters) on {lay.gpus} x "
        f"{p.device.name}: {lay.strategy} x {lay.dp}, tensor {lay.tp}, pipeline {lay.pp}; "
        f"{s.precision}, compile {'on' if s.compile else 'off'}, micro-batch "
        f"{s.micro_batch} x {s.seq_len} tokens, {s.grad_accum} accumulation step(s)",
        "memory per GPU",
        f"  parameters        {gib(m.params)}   (fp32 master weights + compute copies)",
        f"  gradients         {gib(m.grads)}",
        f"  optimizer state   {gib(m.optimizer)}   (AdamW, two fp32 moments)",
        f"  activations       {gib(m.activations)}   (checkpointing: {ckpt}; without: "
        f"{m.activations_without_checkpointing / GIB:.2f} GiB, every block: "
        f"{m.activations_with_checkpointing / GIB:.2f} GiB)",
        f"  loss head         {gib(m.loss_head)}",
        f"  backward scratch  {gib(m.recompute + m.backward_transient + m.tied_gradient)}",
        f"  workspace         {gib(m.workspace)}   (CUDA context, cuBLAS and NCCL buffers)",
        f"  peak              {gib(m.peak)}   of {p.device.memory_gib:g} GiB: {fits}",
        f"throughput        {p.tokens_per_second_per_gpu:,.0f} tokens/s per GPU, "
        f"{p.tokens_per_second_per_gpu * lay.gpus:,.0f} in all; MFU {p.mfu:.0%} of bf16 peak",
        f"token budget      {p.tokens:.3g} tokens (train.steps x batch_size x seq_len)",
        f"wall time         {_duration(p.seconds)}; {_hours(p.gpu_hours)} GPU-hours",
        f"energy            {_energy(p.energy_kwh)} at {p.power_watts:g} W per GPU "
        f"({p.power_source}; GPUs only: no CPUs, network or cooling)",
        f"training compute  {p.train_flops:.3g} FLOP (6 x parameters x tokens + attention)",
        f"  {_threshold(p.train_flops, GPAI_INDICATIVE_FLOP, 'indicative criterion for a general-purpose AI model')}",
        f"  {_threshold(p.train_flops, SYSTEMIC_RISK_FLOP, 'presumed systemic risk, AI Act Art. 51(2)')}",
        f"model: roofline step time calibrated on {CALIBRATION_RUN.name} "
        f"(matmul efficiency {efficiency():.2f}); expect +-20% on H100-class GPUs",
    ]
    return "\n".join(lines)
