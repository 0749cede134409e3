"""Frugal's reference trainer and checkpointing library.

Library use in your own loop: see ``examples/own_loop.py`` (one process), the repository's
``examples/ddp/train.py`` (DDP under torchrun) and docs/trainer.md::

    from frugal_trainer import Checkpointer, Progress, StopSignal, rng_state, set_rng_state
    progress, stop = Progress(), StopSignal().install()
    ckpt = Checkpointer("checkpoints", keep=3, on_written=progress.checkpoint_written)
"""

from .checkpoint import Checkpointer, CheckpointInfo
from .config import InvalidConfig, TrainConfig
from .data import micro_batch_index
from .distributed import Distributed, from_environment, rank_seed
from .parallel import settle_ddp_buckets
from .progress import NullProgress, Progress
from .protocol import EXIT_COMPLETED, EXIT_INTERRUPTED, EXIT_INVALID_INPUT
from .rng import rng_state, set_rng_state
from .sharded_checkpoint import ShardedCheckpointer, load_latest_agreed
from .signals import StopSignal

__all__ = [
    "Checkpointer", "CheckpointInfo", "InvalidConfig", "TrainConfig", "Progress", "NullProgress", "StopSignal",
    "EXIT_COMPLETED", "EXIT_INTERRUPTED", "EXIT_INVALID_INPUT", "rng_state", "set_rng_state",
    "Distributed", "from_environment", "rank_seed", "micro_batch_index", "settle_ddp_buckets", "ShardedCheckpointer",
    "load_latest_agreed",
]
