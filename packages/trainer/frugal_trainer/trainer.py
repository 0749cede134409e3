"""``Trainer``: the model (alone, or under DDP / ZeRO-1 / FSDP on several processes), optimizer, LR schedule,
loss scaler and data cursor, one ``train_step`` at a time, and the state a checkpoint needs to continue
bitwise identically. The reference loop around it is ``loop.run`` (re-exported here as ``run``)."""

import contextlib
import dataclasses
import hashlib
import inspect
import math
import os

import torch

from . import parallel
from . import precision as prec
from .config import InvalidConfig, batch_layout, to_json
from .data import SyntheticTokens, micro_batch_index
from .distributed import Distributed, rank_seed
from .model import GPT, Block, GPTConfig
from .rng import rng_state, seed_everything, set_rng_state


def resolve_device(name):
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidConfig("device: expected an available device, got %r (torch sees no CUDA GPU)" % name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda:0")
    return device


def _lr_factor(cfg):
    # Linear warm-up, then cosine decay to minLearningRate at maxSteps (Loshchilov & Hutter 2017).
    floor = cfg.min_learning_rate / cfg.learning_rate if cfg.learning_rate > 0 else 0.0

    def factor(step):
        if cfg.warmup_steps > 0 and step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        span = max(1, cfg.max_steps - cfg.warmup_steps)
        progress = min(1.0, (step - cfg.warmup_steps) / span)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


_WRAPPER_PREFIXES = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.", "_orig_mod.")


def clean_name(name):
    """A parameter's name as the bare model has it, without the prefixes wrappers add."""
    for prefix in _WRAPPER_PREFIXES:
        name = name.replace(prefix, "")
    return name


def state_sha256(state):
    """sha256 over a state dict, bitwise: for each entry in name order, its name, dtype, shape and raw bytes."""
    from .serialization import raw_bytes

    h = hashlib.sha256()
    entries = {clean_name(k): v for k, v in state.items()}
    for name in sorted(entries):
        t = entries[name].detach().cpu()
        h.update(("%s|%s|%s\n" % (name, str(t.dtype), list(t.shape))).encode())
        h.update(raw_bytes(t))
    return h.hexdigest()


def weights_sha256(model):
    """sha256 over the model's weights, bitwise. Equal hashes mean bitwise-equal models."""
    return state_sha256(model.state_dict())


class Trainer:
    """The training state and one optimizer step. A single process keeps its state in one dict
    (``state_dict``); a process of several hands its checkpoint over in parts (``checkpoint_parts``)."""

    def __init__(self, cfg, dist=None):
        self.cfg = cfg
        self.dist = dist or Distributed()
        self.device = self.dist.device if self.dist.enabled else resolve_device(cfg.device)
        why_not = prec.supports(cfg.precision, self.device.type)
        if why_not:
            raise InvalidConfig("precision: " + why_not)
        if cfg.deterministic or self.device.type == "cpu":
            if self.device.type == "cuda":
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
        prec.set_matmul_precision(cfg.precision, self.device.type)
        self.accumulation, self.global_batch = batch_layout(cfg, self.dist.world_size)
        caps = parallel.capabilities(self.device.type) if self.dist.enabled else None
        self.parallelism = parallel.choose(cfg.sharding, self.dist.world_size, caps)
        seed_everything(cfg.seed)  # the same initial weights on every rank
        # The run's settings carry every model field (config.py stays importable without torch).
        model_fields = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(GPTConfig)}
        self.model = GPT(GPTConfig(**model_fields)).to(self.device)
        self.model.train()
        self._flops_per_token, self._parameters = self.model.flops_per_token(), self.model.parameter_count()
        if self.dist.enabled:
            seed_everything(rank_seed(cfg.seed, self.dist.rank))  # dropout differs between ranks
        kind = self.parallelism.kind
        self.wrapped = self.model
        if kind in ("ddp", "zero1"):
            self.wrapped = parallel.wrap_ddp(self.model, self.dist)
        elif kind == "fsdp":
            self.wrapped = parallel.wrap_fsdp(self.model, self.parallelism, self.dist, cfg.precision, Block, caps)
        self._settled = kind not in ("ddp", "zero1")
        self.optimizer = self._adamw(caps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _lr_factor(cfg))
        self.scaler = parallel.grad_scaler_for(self.parallelism, cfg.precision, self.device.type)
        self.data = SyntheticTokens(cfg.vocab_size, cfg.sequence_length, cfg.micro_batch_size, cfg.seed)
        self.step = 0
        self.tokens_seen = 0
        self.forward = self.wrapped
        if cfg.compile:
            if not hasattr(torch, "compile"):
                raise InvalidConfig("compile: torch %s has no torch.compile (needs 2.0+)" % torch.__version__)
            self.forward = torch.compile(self.wrapped)
        self._autocast = parallel.autocast_for(self.parallelism, cfg.precision, self.device.type)

    def _adamw(self, caps):
        kind = self.parallelism.kind
        if kind == "fsdp":
            # FSDP's own parameters; with use_orig_params they keep their names, so the groups survive.
            matrices = {n for n, p in self.model.named_parameters() if p.dim() >= 2}
            named = [(clean_name(n), p) for n, p in self.wrapped.named_parameters()]
        else:
            named = list(self.model.named_parameters())
            matrices = {n for n, p in named if p.dim() >= 2}
        if kind == "fsdp" and not caps.fsdp_use_orig_params:
            groups = [{"params": [p for _, p in named], "weight_decay": self.cfg.weight_decay}]
        else:
            groups = [{"params": [p for n, p in named if n in matrices], "weight_decay": self.cfg.weight_decay},
                      {"params": [p for n, p in named if n not in matrices], "weight_decay": 0.0}]
        kwargs = {"lr": self.cfg.learning_rate, "betas": (0.9, 0.95), "eps": 1e-8}
        params = inspect.signature(torch.optim.AdamW).parameters
        if self.device.type == "cuda" and "fused" in params:
            kwargs["fused"] = True  # one kernel for the whole update
        elif "foreach" in params:
            kwargs["foreach"] = self.device.type == "cuda"
        self.fused_optimizer = kwargs.get("fused", False)
        if kind == "zero1":
            return parallel.zero_optimizer(groups, **kwargs)
        return torch.optim.AdamW(groups, **kwargs)

    @property
    def parameters(self):
        return self._parameters

    @property
    def flops_per_token(self):
        return self._flops_per_token

    @property
    def tokens_per_step(self):
        """Tokens of one optimizer step over every process."""
        return self.global_batch * self.cfg.sequence_length

    def _batch(self, index):
        x, y = self.data.batch(index)
        if self.device.type == "cuda":
            return x.pin_memory().to(self.device, non_blocking=True), y.pin_memory().to(self.device, non_blocking=True)
        return x, y

    def _no_sync(self):
        return self.wrapped.no_sync() if self.wrapped is not self.model else contextlib.nullcontext()

    def train_step(self):
        """One optimizer step over ``accumulation`` micro-batches per process; returns this process's mean
        loss as a 0-dim tensor on the device (reading it synchronises, so callers read it only when they log).
        Which batches each rank takes: ``data.micro_batch_index``."""
        cfg, world, rank = self.cfg, self.dist.world_size, self.dist.rank
        if not self._settled:
            zeros = torch.zeros(cfg.micro_batch_size, cfg.sequence_length, dtype=torch.long, device=self.device)

            def throwaway_loss():
                with self._autocast():
                    return self.wrapped(zeros, zeros)

            parallel.settle_ddp_buckets(self.wrapped, throwaway_loss)
            self._settled = True
        total = None
        for a in range(self.accumulation):
            x, y = self._batch(micro_batch_index(self.data.cursor, a, world, rank))
            # Gradients are reduced once, on the last micro-batch.
            with self._no_sync() if a < self.accumulation - 1 else contextlib.nullcontext():
                with self._autocast():
                    loss = self.forward(x, y)
                    if self.accumulation > 1:
                        loss = loss / self.accumulation
                if self.scaler is not None:
                    self.scaler.scale(loss).backward()
                else:
                    loss.backward()
            total = loss.detach() if total is None else total + loss.detach()
        self.data.cursor += self.accumulation * world
        if cfg.grad_clip > 0:
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)
            if self.parallelism.kind == "fsdp":
                self.wrapped.clip_grad_norm_(cfg.grad_clip)  # the norm over every rank's shard
            else:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        self.step += 1
        self.tokens_seen += self.tokens_per_step
        return total

    @property
    def learning_rate(self):
        return self.optimizer.param_groups[0]["lr"]

    # ---- a single process: the whole state in one dict ---------------------------------------------

    def state_dict(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": rng_state(),
            "data": self.data.state_dict(),
            "step": self.step,
            "tokensSeen": self.tokens_seen,
            "config": to_json(self.cfg),
        }

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.data.load_state_dict(state["data"])
        self.step = int(state["step"])
        self.tokens_seen = int(state["tokensSeen"])
        set_rng_state(state["rng"])

    # ---- several processes: the checkpoint in parts -------------------------------------------------

    def checkpoint_parts(self):
        """(replicated, optimizer states, own, options) for ``ShardedCheckpointer.save_parts``. Collective
        under FSDP (the full state is gathered to rank 0), so every rank calls it at the same step."""
        kind = self.parallelism.kind
        if kind == "fsdp":
            from . import fsdp_state

            model, optimizer = fsdp_state.full_state(self.wrapped, self.optimizer)
        else:
            model, optimizer = self.model.state_dict(), self._optimizer_state()
        replicated = {
            "model": model,
            "optimizer": {"param_groups": optimizer.get("param_groups", [])},
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "data": self.data.state_dict(),
            "step": self.step,
            "tokensSeen": self.tokens_seen,
            "config": to_json(self.cfg),
            "worldSize": self.dist.world_size,
            "globalBatchSize": self.global_batch,
            "parallelism": self.parallelism.name,
        }
        options = {"replicated_everywhere": kind != "fsdp", "states_everywhere": kind == "ddp", "reshardable": True}
        return replicated, optimizer.get("state", {}), {"rng": rng_state()}, options

    def _optimizer_state(self):
        """The optimizer's state dict as a single AdamW has it (states keyed by the parameter's index over the
        param groups); under ZeRO-1 the states of this rank's partition only."""
        if self.parallelism.kind != "zero1":
            return self.optimizer.state_dict()
        zero = self.optimizer
        index = {id(p): i for i, p in enumerate(p for g in zero.param_groups for p in g["params"])}
        local = zero.optim.state_dict()
        states = {}
        for saved, live in zip(local["param_groups"], zero.optim.param_groups):
            for local_index, p in zip(saved["params"], live["params"]):
                if local_index in local["state"]:
                    states[index[id(p)]] = local["state"][local_index]
        groups = torch.optim.Optimizer.state_dict(zero)["param_groups"]
        return {"state": states, "param_groups": groups}

    def check_resumable(self, loaded):
        """Raises ``InvalidConfig`` when ``loaded`` cannot continue on this run's settings and processes."""
        saved = loaded.state.get("config", {})
        now = to_json(self.cfg)
        keys = ("layers", "hiddenSize", "heads", "vocabSize", "sequenceLength", "microBatchSize", "seed", "precision")
        changed = [k for k in keys if k in saved and saved[k] != now[k]]
        world = self.dist.world_size
        saved_batch = loaded.state.get("globalBatchSize")
        if saved_batch is None and "microBatchSize" in saved:
            saved_batch = saved["microBatchSize"] * saved.get("gradientAccumulationSteps", 1) * loaded.world_size
        if saved_batch is not None and saved_batch != self.global_batch:
            if loaded.world_size == world:
                changed.append("gradientAccumulationSteps")
            else:
                raise InvalidConfig(
                    "checkpointDir: the checkpoint at step %d was made by %d process%s with a global batch of %d "
                    "sequences; this run has %d process%s and a global batch of %d: set globalBatchSize to %d to "
                    "continue it on %d, or use another directory" % (
                        loaded.step, loaded.world_size, "" if loaded.world_size == 1 else "es", saved_batch, world,
                        "" if world == 1 else "es", self.global_batch, saved_batch, world))
        if changed:
            raise InvalidConfig("checkpointDir: the checkpoint at step %d was made with different %s; "
                                "use another directory" % (loaded.step, ", ".join(changed)))
        if not loaded.reshardable and loaded.world_size != world:
            raise InvalidConfig(
                "checkpointDir: the checkpoint at step %d holds shards for %d processes and cannot be split for %d: "
                "run it on %d processes, or use another directory" % (loaded.step, loaded.world_size, world,
                                                                     loaded.world_size))

    def load_checkpoint(self, loaded):
        """Continues from a verified checkpoint of any layout (``sharded_checkpoint.Loaded``)."""
        state = loaded.state
        optimizer = dict(state["optimizer"], state=loaded.optimizer_states)
        if self.parallelism.kind == "fsdp":
            from . import fsdp_state

            fsdp_state.load_full_state(self.wrapped, self.optimizer, state["model"], optimizer)
        else:
            self.model.load_state_dict(state["model"])
            # ZeroRedundancyOptimizer takes the whole dict and keeps its own partition, for any number of ranks.
            self.optimizer.load_state_dict(optimizer)
        self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.data.load_state_dict(state["data"])
        self.step = int(state["step"])
        self.tokens_seen = int(state["tokensSeen"])
        rank = self.dist.rank
        if loaded.world_size == self.dist.world_size and loaded.rngs[rank] is not None:
            set_rng_state(loaded.rngs[rank])
        else:
            # Another number of processes: no saved stream belongs to this rank; a fresh one per (rank, step).
            seed_everything(rank_seed(self.cfg.seed + self.step, rank))

    def weights_sha256(self):
        """The weights' hash (collective under FSDP; None on ranks other than 0)."""
        if self.parallelism.kind == "fsdp":
            from . import fsdp_state

            model, _ = fsdp_state.full_state(self.wrapped, None)
            return state_sha256(model) if self.dist.is_main else None
        return weights_sha256(self.model)


def run(cfg, progress, stop, checkpointer_factory=None, dist=None):
    """The reference loop (``loop.run``): 0 completed, 75 interrupted with a final checkpoint."""
    from .loop import run as loop_run

    return loop_run(cfg, progress, stop, checkpointer_factory=checkpointer_factory, dist=dist)


__all__ = ["Trainer", "run", "weights_sha256", "state_sha256", "resolve_device"]
