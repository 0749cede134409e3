"""``Trainer`` (the model, optimizer, LR schedule, loss scaler and data cursor, one ``train_step`` at a
time) and ``run`` (the reference loop: resume, checkpoint on an interval, stop cleanly on a signal)."""

import dataclasses
import hashlib
import inspect
import math
import os
import time

import torch

from . import precision as prec
from .config import InvalidConfig, to_json
from .data import SyntheticTokens
from .hardware import GpuMonitor, peak_tflops
from .model import GPT, GPTConfig
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


def weights_sha256(model):
    """sha256 over the weights, bitwise: for each entry of the state dict in name order, its name, dtype,
    shape and raw bytes. Equal hashes mean bitwise-equal models."""
    from .serialization import raw_bytes

    h = hashlib.sha256()
    state = model.state_dict()
    for name in sorted(state):
        t = state[name].detach().cpu()
        h.update(("%s|%s|%s\n" % (name, str(t.dtype), list(t.shape))).encode())
        h.update(raw_bytes(t))
    return h.hexdigest()


class Trainer:
    """The training state and one optimizer step. ``state_dict``/``load_state_dict`` cover everything a
    resume needs to continue bitwise identically: weights, AdamW moments, LR schedule, loss scaler, every
    RNG, the data cursor, the step and tokens seen."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        why_not = prec.supports(cfg.precision, self.device.type)
        if why_not:
            raise InvalidConfig("precision: " + why_not)
        if cfg.deterministic or self.device.type == "cpu":
            if self.device.type == "cuda":
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
        prec.set_matmul_precision(cfg.precision, self.device.type)
        seed_everything(cfg.seed)
        # The run's settings carry every model field (config.py stays importable without torch).
        model_fields = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(GPTConfig)}
        self.model = GPT(GPTConfig(**model_fields)).to(self.device)
        self.model.train()
        self.optimizer = self._adamw()
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _lr_factor(cfg))
        self.scaler = prec.grad_scaler(cfg.precision, self.device.type)
        self.data = SyntheticTokens(cfg.vocab_size, cfg.sequence_length, cfg.micro_batch_size, cfg.seed)
        self.step = 0
        self.tokens_seen = 0
        self.forward = self.model
        if cfg.compile:
            if not hasattr(torch, "compile"):
                raise InvalidConfig("compile: torch %s has no torch.compile (needs 2.0+)" % torch.__version__)
            self.forward = torch.compile(self.model)
        self._autocast = lambda: prec.autocast(cfg.precision, self.device.type)

    def _adamw(self):
        decay = [p for p in self.model.parameters() if p.dim() >= 2]
        no_decay = [p for p in self.model.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        kwargs = {"lr": self.cfg.learning_rate, "betas": (0.9, 0.95), "eps": 1e-8}
        params = inspect.signature(torch.optim.AdamW).parameters
        if self.device.type == "cuda" and "fused" in params:
            kwargs["fused"] = True  # one kernel for the whole update
        elif "foreach" in params:
            kwargs["foreach"] = self.device.type == "cuda"
        self.fused_optimizer = kwargs.get("fused", False)
        return torch.optim.AdamW(groups, **kwargs)

    @property
    def parameters(self):
        return self.model.parameter_count()

    @property
    def flops_per_token(self):
        return self.model.flops_per_token()

    def _batch(self):
        x, y = self.data.next()
        if self.device.type == "cuda":
            return x.pin_memory().to(self.device, non_blocking=True), y.pin_memory().to(self.device, non_blocking=True)
        return x, y

    def train_step(self):
        """One optimizer step over ``gradientAccumulationSteps`` micro-batches; returns the mean loss as a
        0-dim tensor on the device (reading it synchronises, so callers read it only when they log)."""
        cfg = self.cfg
        total = None
        for _ in range(cfg.gradient_accumulation_steps):
            x, y = self._batch()
            with self._autocast():
                loss = self.forward(x, y)
                if cfg.gradient_accumulation_steps > 1:
                    loss = loss / cfg.gradient_accumulation_steps
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
            else:
                loss.backward()
            total = loss.detach() if total is None else total + loss.detach()
        if cfg.grad_clip > 0:
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        self.step += 1
        self.tokens_seen += cfg.tokens_per_step
        return total

    @property
    def learning_rate(self):
        return self.optimizer.param_groups[0]["lr"]

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

    def weights_sha256(self):
        return weights_sha256(self.model)


def _same_shape(saved, cfg):
    keys = ("layers", "hiddenSize", "heads", "vocabSize", "sequenceLength", "microBatchSize",
            "gradientAccumulationSteps", "seed", "precision")
    now = to_json(cfg)
    return [k for k in keys if k in saved and saved[k] != now[k]]


def run(cfg, progress, stop, checkpointer_factory=None):
    """The reference loop. Returns the exit code: 0 completed, 75 interrupted with a final checkpoint."""
    from .checkpoint import Checkpointer
    from .protocol import EXIT_COMPLETED, EXIT_INTERRUPTED

    trainer = Trainer(cfg)
    monitor = GpuMonitor(trainer.device)
    peak = peak_tflops(trainer.device, cfg.precision)
    ckpt = None
    if cfg.checkpoint_dir:
        make = checkpointer_factory or Checkpointer
        ckpt = make(cfg.checkpoint_dir, keep=cfg.keep_checkpoints, asynchronous=cfg.async_checkpoints,
                    on_written=progress.checkpoint_written)
    resumed_from = None
    if ckpt is not None:
        latest = ckpt.load_latest()
        if latest is not None:
            step, state, _ = latest
            changed = _same_shape(state.get("config", {}), cfg)
            if changed:
                raise InvalidConfig("checkpointDir: the checkpoint at step %d was made with different %s; "
                                    "use another directory" % (step, ", ".join(changed)))
            trainer.load_state_dict(state)
            resumed_from = trainer.step
            del state, latest

    progress.started(trainer.step, resumed_from, trainer.tokens_seen, str(trainer.device), cfg.precision,
                     maxSteps=cfg.max_steps, parameters=trainer.parameters, flopsPerToken=trainer.flops_per_token)

    last_saved = resumed_from
    if cfg.checkpoint_every_steps:
        next_due_step = (trainer.step // cfg.checkpoint_every_steps + 1) * cfg.checkpoint_every_steps
    last_save_time = time.monotonic()
    window_start, window_steps = time.perf_counter(), 0
    timed_seconds, timed_steps, first_step, prepared = 0.0, 0, True, False

    def save():
        nonlocal last_saved, last_save_time
        ckpt.save(trainer.step, trainer.state_dict())
        last_saved, last_save_time = trainer.step, time.monotonic()

    while trainer.step < cfg.max_steps and stop.requested is None:
        loss = trainer.train_step()
        window_steps += 1
        if not prepared and ckpt is not None and cfg.async_checkpoints and trainer.device.type == "cuda":
            # Pin the host buffers once, after the first step has created the optimizer's moments, so no
            # checkpoint pays for page-locking gigabytes inside the loop.
            ckpt.prepare(trainer.state_dict())
            prepared = True
        done = trainer.step >= cfg.max_steps
        if trainer.step % cfg.log_every == 0 or done or stop.requested is not None:
            loss_value = float(loss)  # synchronises the device, so the window's time is real
            elapsed = time.perf_counter() - window_start
            tps = window_steps * cfg.tokens_per_step / elapsed if elapsed > 0 else 0.0
            if first_step:
                first_step = False  # the first window holds warm-up and compilation
            else:
                timed_seconds += elapsed
                timed_steps += window_steps
            progress.step(trainer.step, loss_value, tps, trainer.tokens_seen, monitor.utilization(),
                          monitor.memory_gib(), learningRate=trainer.learning_rate,
                          mfu=(tps * trainer.flops_per_token / (peak * 1e12)) if peak else None)
            window_start, window_steps = time.perf_counter(), 0
        if ckpt is not None and not done and stop.requested is None:
            every = cfg.checkpoint_every_steps
            due_steps = every and trainer.step >= next_due_step
            due_time = cfg.checkpoint_every_seconds and time.monotonic() - last_save_time >= cfg.checkpoint_every_seconds
            # A checkpoint that comes due while the previous one is still being written waits for a later
            # step rather than stalling the loop: the loop only ever blocks for the copy to host memory.
            if (due_steps or due_time) and not ckpt.busy:
                save()
                if every:
                    next_due_step = (trainer.step // every + 1) * every
        if cfg.step_delay_seconds and not done:
            time.sleep(cfg.step_delay_seconds)

    if trainer.step >= cfg.max_steps:
        if ckpt is not None:
            if last_saved != trainer.step:
                save()
            ckpt.wait()
        tps = timed_steps * cfg.tokens_per_step / timed_seconds if timed_seconds > 0 else None
        progress.completed(trainer.step, trainer.tokens_seen, trainer.weights_sha256(), tokensPerSecond=tps,
                           mfu=(tps * trainer.flops_per_token / (peak * 1e12)) if (tps and peak) else None,
                           precision=cfg.precision, device=str(trainer.device))
        return EXIT_COMPLETED

    reason = stop.requested
    checkpoint_step = None
    if ckpt is not None:
        if last_saved != trainer.step:
            save()
        ckpt.wait()
        checkpoint_step = trainer.step
    progress.interrupted(trainer.step, reason, checkpoint_step)
    # Without a checkpoint directory nothing can be resumed: that is a failure, not exit 75.
    return EXIT_INTERRUPTED if checkpoint_step is not None else 1


__all__ = ["Trainer", "run", "weights_sha256", "resolve_device"]
