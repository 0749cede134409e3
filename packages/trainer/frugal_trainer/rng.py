"""Every random-number generator the training loop may touch, captured and restored together."""

import random

import torch

try:
    import numpy
except ImportError:  # numpy is optional; its state is saved only when it is installed
    numpy = None


def rng_state():
    state = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if numpy is not None:
        state["numpy"] = numpy.random.get_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state):
    random.setstate(_as_python_state(state["python"]))
    torch.set_rng_state(state["torch"])
    if numpy is not None and "numpy" in state:
        numpy.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_python_state(s):
    # random.setstate needs tuples; a round trip through some formats yields lists.
    version, internal, gauss = s
    return (version, tuple(internal), gauss)


def seed_everything(seed):
    random.seed(seed)
    torch.manual_seed(seed)
    if numpy is not None:
        numpy.random.seed(seed % (2 ** 32))
