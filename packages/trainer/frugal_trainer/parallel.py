"""How the model is spread over the processes of a job: the workload's ``model.sharding`` mapped to what
the installed torch can run on this device, every substitution named (never silent).

| sharding | runs as                                              | ZeRO stage | where FSDP cannot run       |
|----------|------------------------------------------------------|------------|-----------------------------|
| none     | DDP (gradients all-reduced, everything replicated)   | 0          | -                           |
| zero1    | DDP + ZeroRedundancyOptimizer (optimizer states)     | 1          | -                           |
| zero2    | FSDP ``SHARD_GRAD_OP`` (+ gradients)                 | 2          | DDP + ZeroRedundancyOptimizer |
| fsdp     | FSDP ``FULL_SHARD`` (+ parameters)                   | 3          | DDP + ZeroRedundancyOptimizer |

FSDP runs only on CUDA here: torch 1.13's FSDP creates CUDA streams unconditionally, and CPU runs are
for exact drills, where sharding the optimizer states (ZeRO-1) already exercises sharded checkpoints.
Mixed precision goes through each wrapper's own mechanism: autocast (+ GradScaler for fp16) around
DDP, FSDP's ``MixedPrecision`` (+ ``ShardedGradScaler`` for fp16) for FSDP."""

import contextlib
import dataclasses
import functools
import inspect
import sys

import torch

from . import precision as prec


@dataclasses.dataclass(frozen=True)
class Parallelism:
    kind: str  # single | ddp | zero1 | fsdp
    fsdp_strategy: str = ""  # FULL_SHARD | SHARD_GRAD_OP
    fallbacks: tuple = ()

    @property
    def name(self):
        """As reported in the ``started`` event: single, ddp, ddp+zero1, fsdp:FULL_SHARD, fsdp:SHARD_GRAD_OP."""
        if self.kind == "fsdp":
            return "fsdp:" + self.fsdp_strategy
        return {"zero1": "ddp+zero1"}.get(self.kind, self.kind)


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What this torch offers for several processes on this device type."""
    torch_version: str
    device_type: str
    fsdp: bool  # FSDP importable
    zero: bool  # ZeroRedundancyOptimizer importable
    fsdp_use_orig_params: bool  # FSDP keeps per-parameter views (torch >= 2.0): weight-decay groups survive
    fsdp_missing: str = ""  # why FSDP cannot be imported, when it cannot

    @property
    def fsdp_runs_here(self):
        return self.fsdp and self.device_type == "cuda"


def capabilities(device_type):
    missing = ""
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel

        fsdp, orig = True, "use_orig_params" in inspect.signature(FullyShardedDataParallel.__init__).parameters
    except ImportError:
        fsdp, orig, missing = False, False, "torch %s has no FSDP" % torch.__version__
    except Exception as e:
        # torch 1.13's FSDP does not import on Python >= 3.11 (a dataclass with a mutable default).
        fsdp, orig = False, False
        missing = "torch %s's FSDP does not import under Python %d.%d (%s)" % (
            torch.__version__, sys.version_info[0], sys.version_info[1], type(e).__name__)
    try:
        from torch.distributed.optim import ZeroRedundancyOptimizer  # noqa: F401

        zero = True
    except ImportError:
        zero = False
    return Capabilities(torch.__version__, device_type, fsdp, zero, orig, missing)


_FSDP_STRATEGY = {"zero2": "SHARD_GRAD_OP", "fsdp": "FULL_SHARD"}


def choose(sharding, world_size, caps):
    """The parallelism for ``sharding`` on ``world_size`` processes with ``caps``. Pure."""
    if world_size <= 1:
        return Parallelism("single")
    if sharding == "none":
        return Parallelism("ddp")
    fallbacks = []
    if sharding in _FSDP_STRATEGY:
        strategy = _FSDP_STRATEGY[sharding]
        if caps.fsdp_runs_here:
            if not caps.fsdp_use_orig_params:
                fallbacks.append("sharding %s: torch %s's FSDP has no use_orig_params, so weight decay also applies "
                                 "to biases and LayerNorm weights" % (sharding, caps.torch_version))
            return Parallelism("fsdp", strategy, tuple(fallbacks))
        why = (caps.fsdp_missing or "torch %s has no FSDP" % caps.torch_version) if not caps.fsdp else (
            "FSDP %s needs CUDA devices and this run is on %s" % (strategy, caps.device_type))
        fallbacks.append("sharding %s: %s; sharding the optimizer states only (DDP + ZeroRedundancyOptimizer, ZeRO-1)"
                         % (sharding, why))
    if not caps.zero:
        fallbacks.append("sharding %s: torch %s has no ZeroRedundancyOptimizer; plain DDP (nothing sharded)"
                         % (sharding, caps.torch_version))
        return Parallelism("ddp", "", tuple(fallbacks))
    return Parallelism("zero1", "", tuple(fallbacks))


def _constant_buffers(model):
    """Names of buffers not in the state dict (the causal mask): constants every rank builds alike, which
    DDP need not broadcast (and gloo cannot: the mask is bool)."""
    names = []
    for module_name, module in model.named_modules():
        for buffer_name in getattr(module, "_non_persistent_buffers_set", ()):
            names.append("%s.%s" % (module_name, buffer_name) if module_name else buffer_name)
    return names


def wrap_ddp(model, dist):
    from torch.nn.parallel import DistributedDataParallel

    DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(model, _constant_buffers(model))
    device_ids = [dist.device.index] if dist.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def settle_ddp_buckets(ddp, compute_loss):
    """One throwaway forward and backward (``compute_loss()`` through ``ddp``), before the first real step of
    every attempt.

    DDP fills its gradient buckets in parameter order, then rebuilds them once, after the first backward,
    in the order the gradients arrived. An all-reduce adds each element in an order that depends on its
    position in the bucket (ring all-reduce), so a resumed run, whose first step would use the initial
    layout, would add differently from the uninterrupted run at the same step (with 3 or more ranks; two
    operands add alike in any order). Settling the layout here makes every real step of every attempt use
    the rebuilt one. RNG state is restored and the gradients dropped: no weight changes."""
    from .rng import rng_state, set_rng_state

    saved = rng_state()
    compute_loss().backward()
    for p in ddp.module.parameters():
        p.grad = None
    set_rng_state(saved)


def zero_optimizer(groups, **kwargs):
    from torch.distributed.optim import ZeroRedundancyOptimizer

    return ZeroRedundancyOptimizer(groups, optimizer_class=torch.optim.AdamW, **kwargs)


def wrap_fsdp(model, plan, dist, precision, block_class, caps):
    """FSDP around each transformer block and the whole model, with FSDP's own mixed precision and, when
    the model asks for it, activation checkpointing of each block through FSDP's checkpoint wrapper."""
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    from torch.distributed.fsdp import MixedPrecision, ShardingStrategy
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

    kwargs = dict(
        auto_wrap_policy=functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={block_class}),
        sharding_strategy=getattr(ShardingStrategy, plan.fsdp_strategy),
        device_id=dist.device,
    )
    low = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    if low is not None:
        # Gradients are reduced in fp32: a bf16 sum over many ranks loses the small contributions.
        kwargs["mixed_precision"] = MixedPrecision(param_dtype=low, reduce_dtype=torch.float32)
    if caps.fsdp_use_orig_params:
        kwargs["use_orig_params"] = True
    checkpointing = model.cfg.activation_checkpointing
    model.cfg.activation_checkpointing = False  # the wrapper below recomputes each block instead
    wrapped = FSDP(model, **kwargs)
    if checkpointing:
        from torch.distributed.algorithms._checkpoint import checkpoint_wrapper as cw

        apply = getattr(cw, "apply_activation_checkpointing", None) or cw.apply_activation_checkpointing_wrapper
        apply(wrapped, checkpoint_wrapper_fn=functools.partial(cw.checkpoint_wrapper,
                                                               checkpoint_impl=cw.CheckpointImpl.NO_REENTRANT),
              check_fn=lambda m: isinstance(m, block_class))
    return wrapped


def autocast_for(plan, precision, device_type):
    """FSDP casts through its MixedPrecision; everything else autocasts."""
    if plan.kind == "fsdp":
        return contextlib.nullcontext
    return lambda: prec.autocast(precision, device_type)


def grad_scaler_for(plan, precision, device_type):
    if precision != "fp16":
        return None
    if plan.kind == "fsdp":
        from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler

        # Each rank sees only its shard of the gradients: the inf check must be reduced over ranks.
        return ShardedGradScaler()
    return prec.grad_scaler(precision, device_type)


__all__ = ["Parallelism", "Capabilities", "capabilities", "choose", "wrap_ddp", "wrap_fsdp", "settle_ddp_buckets",
           "zero_optimizer", "autocast_for", "grad_scaler_for"]
