"""The whole training state of an FSDP model gathered to rank 0 (weights and optimizer states, on the host)
and scattered back: the checkpoint layout every torch with FSDP offers, loadable on any number of
processes. Collective: every rank calls these at the same point.

Only on CUDA (see parallel.py); not run on the CPU-only machines the test suite runs on."""

from torch.distributed.fsdp import FullStateDictConfig, StateDictType
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP


def full_state(model, optimizer):
    """(model state, optimizer state dict) on rank 0, ({}, {}) elsewhere; optimizer may be None."""
    config = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, config):
        weights = model.state_dict()
    optim = FSDP.full_optim_state_dict(model, optimizer) if optimizer is not None else {}
    return weights, optim or {}


def load_full_state(model, optimizer, weights, optim):
    """Every rank passes the whole state (each read it from the checkpoint); FSDP keeps its own shard."""
    config = FullStateDictConfig(offload_to_cpu=True, rank0_only=False)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, config):
        model.load_state_dict(weights)
    optimizer.load_state_dict(FSDP.shard_full_optim_state_dict(optim, model))
