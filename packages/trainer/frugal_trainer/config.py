"""``TrainConfig``: every setting of the reference trainer, from a JSON file (camelCase keys, as in the
workload spec), flags (kebab-case) and environment variables, in that order of increasing precedence
(flags win over the environment, which wins over the file)."""

import argparse
import dataclasses
import json
import os
import re

PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
# The workload's model.sharding: none -> DDP, zero1 -> DDP + ZeroRedundancyOptimizer, zero2 -> FSDP
# SHARD_GRAD_OP, fsdp -> FSDP FULL_SHARD (parallel.py says what each torch version can do).
SHARDINGS = ("none", "zero1", "zero2", "fsdp")


class InvalidConfig(ValueError):
    """A bad setting; the message names the field, the value and what was expected (exit code 2)."""


@dataclasses.dataclass
class TrainConfig:
    # model
    layers: int = 2
    hidden_size: int = 64
    heads: int = 4
    vocab_size: int = 256
    sequence_length: int = 32
    dropout: float = 0.0
    fused_attention: bool = True
    activation_checkpointing: bool = False
    # training
    micro_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    global_batch_size: int = 0
    max_steps: int = 100
    max_tokens: int = 0
    learning_rate: float = 3e-4
    min_learning_rate: float = 3e-5
    warmup_steps: int = 10
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int = 1234
    precision: str = "bf16"
    device: str = "auto"
    compile: bool = False
    deterministic: bool = False
    # several processes (under torchrun)
    sharding: str = "none"
    collective_timeout_seconds: float = 600.0
    # checkpoints
    checkpoint_dir: str = ""
    checkpoint_every_steps: int = 0
    checkpoint_every_seconds: float = 0.0
    keep_checkpoints: int = 3
    async_checkpoints: bool = True
    from_scratch: bool = False
    # progress and drills
    log_every: int = 1
    step_delay_seconds: float = 0.0
    spot_notice_file: str = ""
    watch_ec2_spot_notice: bool = False

    @property
    def tokens_per_step(self):
        return self.micro_batch_size * self.gradient_accumulation_steps * self.sequence_length


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}

_HELP = {
    "layers": "transformer blocks", "hidden_size": "model width", "heads": "attention heads",
    "vocab_size": "vocabulary size", "sequence_length": "tokens per sequence",
    "dropout": "dropout probability (exercises RNG restore on resume)",
    "fused_attention": "scaled_dot_product_attention where torch has it (else explicit softmax)",
    "activation_checkpointing": "recompute each block in the backward pass to save memory",
    "micro_batch_size": "sequences per micro-batch",
    "gradient_accumulation_steps": "micro-batches per optimizer step and process",
    "global_batch_size": "sequences per optimizer step over all processes; sets the accumulation steps "
                         "(0: micro-batch x accumulation x processes)",
    "max_steps": "optimizer steps of the whole run (the run completes at this step)",
    "max_tokens": "tokens of the whole run over every process; sets maxSteps from the global batch (0: use maxSteps)",
    "learning_rate": "peak AdamW learning rate", "min_learning_rate": "learning rate at maxSteps (cosine)",
    "warmup_steps": "linear warm-up steps", "weight_decay": "AdamW weight decay of matrices",
    "grad_clip": "clip the gradient norm to this (0: off)", "seed": "seed of weights, data and dropout",
    "precision": "fp32 | tf32 | bf16 | fp16 (fp16 adds a GradScaler; CUDA only on torch < 2.3)",
    "device": "auto | cpu | cuda | cuda:N", "compile": "torch.compile the model (torch >= 2.0)",
    "deterministic": "deterministic kernels on CUDA too (always on for CPU), for bitwise resume proofs",
    "sharding": "none (DDP) | zero1 (DDP + sharded optimizer states) | zero2 (FSDP SHARD_GRAD_OP) | "
                "fsdp (FSDP FULL_SHARD); used under torchrun with more than one process",
    "collective_timeout_seconds": "a collective that waits longer than this (a peer died) fails the process",
    "checkpoint_dir": "resume from and checkpoint into this directory (env FRUGAL_CHECKPOINT_DIR)",
    "checkpoint_every_steps": "checkpoint every N steps (env FRUGAL_CHECKPOINT_EVERY_STEPS; 0: off)",
    "checkpoint_every_seconds": "checkpoint every S seconds (env FRUGAL_CHECKPOINT_EVERY_SECONDS; 0: off)",
    "keep_checkpoints": "keep the newest K checkpoints",
    "async_checkpoints": "copy to host memory and write in the background",
    "from_scratch": "when every checkpoint in checkpointDir fails verification, set them aside and start from step 0 "
                    "(env FRUGAL_FROM_SCRATCH); without it the run stops with exit 65 naming each file. A valid "
                    "checkpoint is always resumed from",
    "log_every": "write a step event every N steps",
    "step_delay_seconds": "sleep after each step (drills on tiny models)",
    "spot_notice_file": "stop as on a spot notice when this file appears (env FRUGAL_SPOT_NOTICE_FILE)",
    "watch_ec2_spot_notice": "poll the EC2 instance metadata for a spot interruption notice",
}


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


_BY_CAMEL = {_camel(n): n for n in _FIELDS}
_ENV = {
    "FRUGAL_CHECKPOINT_DIR": "checkpoint_dir",
    "FRUGAL_CHECKPOINT_EVERY_SECONDS": "checkpoint_every_seconds",
    "FRUGAL_CHECKPOINT_EVERY_STEPS": "checkpoint_every_steps",
    "FRUGAL_SPOT_NOTICE_FILE": "spot_notice_file",
    "FRUGAL_FROM_SCRATCH": "from_scratch",
}


def _coerce(name, value, where):
    kind = _FIELDS[name].type
    kind = kind if isinstance(kind, str) else kind.__name__

    def bad(expected):
        return InvalidConfig("%s: expected %s, got %r" % (where, expected, value))

    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
        raise bad("true or false")
    if kind == "int":
        if isinstance(value, bool):
            raise bad("an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise bad("an integer")
    if kind == "float":
        if isinstance(value, bool):
            raise bad("a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad("a number")
    if not isinstance(value, str):
        raise bad("a string")
    return value


def validate(cfg):
    problems = []

    def need(ok, field, expected):
        if not ok:
            problems.append("%s: expected %s, got %r" % (_camel(field), expected, getattr(cfg, field)))

    for f in ("layers", "hidden_size", "heads", "vocab_size", "sequence_length", "micro_batch_size",
              "gradient_accumulation_steps", "keep_checkpoints", "log_every"):
        need(getattr(cfg, f) >= 1, f, "an integer >= 1")
    for f in ("max_steps", "warmup_steps", "checkpoint_every_steps", "global_batch_size", "max_tokens"):
        need(getattr(cfg, f) >= 0, f, "an integer >= 0")
    for f in ("learning_rate", "min_learning_rate", "weight_decay", "grad_clip", "checkpoint_every_seconds",
              "step_delay_seconds"):
        need(getattr(cfg, f) >= 0, f, "a number >= 0")
    need(cfg.collective_timeout_seconds > 0, "collective_timeout_seconds", "a number > 0")
    need(cfg.sharding in SHARDINGS, "sharding", "one of " + ", ".join(SHARDINGS))
    need(0.0 <= cfg.dropout < 1.0, "dropout", "a number in [0, 1)")
    need(cfg.precision in PRECISIONS, "precision", "one of " + ", ".join(PRECISIONS))
    need(cfg.device == "auto" or cfg.device == "cpu" or re.fullmatch(r"cuda(:\d+)?", cfg.device) is not None,
         "device", "auto, cpu, cuda or cuda:N")
    if cfg.heads >= 1 and cfg.hidden_size % cfg.heads != 0:
        problems.append("hiddenSize: expected a multiple of heads (%d), got %d" % (cfg.heads, cfg.hidden_size))
    if problems:
        raise InvalidConfig("; ".join(problems))
    return cfg


def build_parser():
    p = argparse.ArgumentParser(
        prog="python3 -m frugal_trainer",
        description="Reference GPT trainer: mixed precision, exact resume, asynchronous atomic checkpoints, "
                    "JSON-lines progress on stdout (exit 0 completed, 75 interrupted and resumable, 2 bad input).")
    p.add_argument("--config", metavar="FILE.json", help="JSON object with any of the settings below (camelCase)")
    for name, f in _FIELDS.items():
        flag = "--" + name.replace("_", "-")
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        text = "%s (default %s)" % (_HELP.get(name, ""), f.default if f.default != "" else "none")
        if kind == "bool":
            p.add_argument(flag, dest=name, default=None, action=argparse.BooleanOptionalAction, help=text)
        else:
            p.add_argument(flag, dest=name, default=None, metavar=kind.upper(), help=text)
    return p


def parse(argv, environ=None):
    """A validated ``TrainConfig`` from command-line arguments (and ``--config``, and the environment)."""
    environ = os.environ if environ is None else environ
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        raise InvalidConfig("invalid arguments (see --help)") if e.code else e
    values = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                loaded = json.load(fh)
        except OSError as e:
            raise InvalidConfig("--config: cannot read %s: %s" % (args.config, e.strerror))
        except ValueError as e:
            raise InvalidConfig("--config: %s is not valid JSON: %s" % (args.config, e))
        if not isinstance(loaded, dict):
            raise InvalidConfig("--config: expected a JSON object")
        for key, value in loaded.items():
            name = _BY_CAMEL.get(key)
            if name is None:
                raise InvalidConfig("%s: unknown setting; expected one of %s" % (key, ", ".join(sorted(_BY_CAMEL))))
            values[name] = _coerce(name, value, key)
    for env, name in _ENV.items():
        if environ.get(env):
            values[name] = _coerce(name, environ[env], env)
    for name in _FIELDS:
        v = getattr(args, name)
        if v is not None:
            values[name] = _coerce(name, v, "--" + name.replace("_", "-"))
    return validate(TrainConfig(**values))


def to_json(cfg):
    return {_camel(k): v for k, v in dataclasses.asdict(cfg).items()}


def batch_layout(cfg, world_size):
    """(micro-batches each process accumulates per optimizer step, sequences per optimizer step over all
    processes). Without ``globalBatchSize`` the global batch grows with the processes; with it, the
    accumulation steps are what keeps it, so a run can move to another number of processes unchanged."""
    per_pass = cfg.micro_batch_size * world_size
    if cfg.global_batch_size == 0:
        return cfg.gradient_accumulation_steps, per_pass * cfg.gradient_accumulation_steps
    if cfg.global_batch_size % per_pass != 0:
        raise InvalidConfig("globalBatchSize: expected a multiple of microBatchSize x processes (%d x %d = %d), got %d"
                            % (cfg.micro_batch_size, world_size, per_pass, cfg.global_batch_size))
    accumulation = cfg.global_batch_size // per_pass
    if cfg.gradient_accumulation_steps not in (1, accumulation):
        raise InvalidConfig("gradientAccumulationSteps: expected 1 or %d (globalBatchSize %d / (microBatchSize %d x "
                            "%d processes)), got %d" % (accumulation, cfg.global_batch_size, cfg.micro_batch_size,
                                                        world_size, cfg.gradient_accumulation_steps))
    return accumulation, cfg.global_batch_size


def with_steps_for(cfg, world_size):
    """``cfg`` with ``maxSteps`` from ``maxTokens`` when that is set: as many optimizer steps of the global batch
    as the tokens need (rounded up), so the same workload trains the same tokens on any number of processes."""
    if not cfg.max_tokens:
        return cfg
    _, global_batch = batch_layout(cfg, world_size)
    tokens_per_step = global_batch * cfg.sequence_length
    return dataclasses.replace(cfg, max_steps=max(1, -(-cfg.max_tokens // tokens_per_step)))
