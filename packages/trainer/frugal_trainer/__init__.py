"""Frugal's reference trainer and checkpointing library.

Library use in your own loop: see ``examples/own_loop.py`` and docs/trainer.md::

    from frugal_trainer import Checkpointer, Progress, StopSignal, rng_state, set_rng_state
    progress, stop = Progress(), StopSignal().install()
    ckpt = Checkpointer("checkpoints", keep=3, on_written=progress.checkpoint_written)
"""

from .checkpoint import Checkpointer, CheckpointInfo
from .config import InvalidConfig, TrainConfig
from .progress import Progress
from .protocol import EXIT_COMPLETED, EXIT_INTERRUPTED, EXIT_INVALID_INPUT
from .rng import rng_state, set_rng_state
from .signals import StopSignal

__all__ = [
    "Checkpointer", "CheckpointInfo", "InvalidConfig", "TrainConfig", "Progress", "StopSignal",
    "EXIT_COMPLETED", "EXIT_INTERRUPTED", "EXIT_INVALID_INPUT", "rng_state", "set_rng_state",
]
