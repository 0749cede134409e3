"""``Distributed``: this process's place in a job of several (rank, world size, device) and the few
collectives the training loop needs to keep every rank in step. Without torchrun (no ``WORLD_SIZE``, or 1)
it is the single process of a plain run: no process group, and every collective returns its input, so
the loop has one code path for both.

torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``,
``MASTER_PORT``) is all it reads: NCCL with one GPU per local rank on CUDA, gloo on CPU. A second gloo
group carries the checkpoint writers' messages, so a background write never interleaves its collectives
with the training loop's on the same group."""

import datetime
import os
import sys

import torch

from .config import InvalidConfig

_TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


# A stop reason as a number, so the ranks can agree on one with a max all-reduce (the first reason wins
# nowhere: the largest code does, the same on every rank).
STOP_REASONS = (None, "SIGTERM", "SIGUSR1", "spot-notice")


def stop_code(reason):
    return STOP_REASONS.index(reason) if reason in STOP_REASONS else 1


def stop_reason(code):
    return STOP_REASONS[int(code)]


def rank_seed(seed, rank):
    """The seed of rank ``rank``'s dropout and other random streams: distinct per rank, reproducible."""
    # 2**61-1 is prime, keeping (seed, rank) pairs apart as in data.py.
    return (seed * 1_000_003 + 7_919 * (rank + 1)) % (2 ** 61 - 1)


class Distributed:
    """One process of a data-parallel job, or the only process of a plain run (``world_size == 1``)."""

    def __init__(self, rank=0, world_size=1, local_rank=0, local_world_size=1, device=None, backend=None):
        self.rank = rank
        self.world_size = world_size
        self.local_rank = local_rank
        self.local_world_size = local_world_size
        self.device = device
        self.backend = backend
        self.checkpoint_group = None

    @property
    def enabled(self):
        return self.world_size > 1

    @property
    def is_main(self):
        return self.rank == 0

    def log(self, message):
        prefix = "frugal-trainer" if not self.enabled else "frugal-trainer[rank %d]" % self.rank
        print("%s: %s" % (prefix, message), file=sys.stderr, flush=True)

    def _tensor(self, values, dtype):
        # NCCL reduces only CUDA tensors; gloo only CPU ones.
        device = self.device if self.backend == "nccl" else torch.device("cpu")
        return torch.tensor(values, dtype=dtype, device=device)

    def all_max(self, values):
        """Elementwise maximum of ``values`` (a list of numbers) over every rank."""
        if not self.enabled:
            return list(values)
        import torch.distributed as dist

        t = self._tensor(values, torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return t.cpu().tolist()

    def agree_stop(self, reason):
        """The stop reason of the job: any rank's (``StopSignal.requested``), the same on every rank."""
        return stop_reason(self.all_max([stop_code(reason)])[0])

    def all_min(self, values):
        return [-v for v in self.all_max([-v for v in values])]

    def mean(self, value):
        """Mean of a 0-dim tensor or number over every rank, as a float (synchronises the device)."""
        if not self.enabled:
            return float(value)
        import torch.distributed as dist

        t = self._tensor([float(value)], torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return float(t.item()) / self.world_size

    def broadcast_object(self, obj):
        """Rank 0's ``obj`` on every rank."""
        if not self.enabled:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0, device=self.device if self.backend == "nccl" else None)
        return box[0]

    def gather_to_main(self, obj, group=None):
        """Every rank's ``obj`` as a list on rank 0 (None elsewhere), over ``group`` (default: the
        checkpoint group, safe from a writer thread)."""
        if not self.enabled:
            return [obj]
        import torch.distributed as dist

        received = [None] * self.world_size if self.is_main else None
        dist.gather_object(obj, received, dst=0, group=group or self.checkpoint_group)
        return received

    def barrier(self):
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    def close(self):
        if self.enabled:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def _device_for(device, local_rank):
    if device == "cpu":
        return torch.device("cpu")
    if device == "auto":
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    if device != "cuda":
        raise InvalidConfig("device: under torchrun each process takes the GPU of its local rank; expected auto, "
                            "cpu or cuda, got %r" % device)
    if not torch.cuda.is_available():
        raise InvalidConfig("device: expected an available device, got 'cuda' (torch sees no CUDA GPU)")
    return torch.device("cuda", local_rank)


def from_environment(device="auto", collective_timeout_seconds=600.0, environ=None):
    """The ``Distributed`` of this process: joins torchrun's process group when ``WORLD_SIZE`` > 1 (NCCL on
    the local rank's GPU, gloo on CPU). A collective that waits longer than the timeout fails the process."""
    env = os.environ if environ is None else environ
    try:
        world_size = int(env.get("WORLD_SIZE") or 1)
    except ValueError:
        raise InvalidConfig("WORLD_SIZE: expected a whole number, got %r" % env.get("WORLD_SIZE"))
    if world_size <= 1:
        return Distributed()
    missing = [name for name in _TORCHRUN_VARIABLES if not env.get(name)]
    if missing:
        raise InvalidConfig("WORLD_SIZE is %d but %s %s unset: start the processes with torchrun"
                            % (world_size, ", ".join(missing), "is" if len(missing) == 1 else "are"))
    rank, local_rank = int(env["RANK"]), int(env["LOCAL_RANK"])
    local_world_size = int(env["LOCAL_WORLD_SIZE"])
    device = _device_for(device, local_rank)
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise InvalidConfig("device: local rank %d has no GPU (torch sees %d); start at most that many processes "
                                "per node" % (local_rank, torch.cuda.device_count()))
        torch.cuda.set_device(device)
        # Without these NCCL never times out: a dead peer would hang the others instead of failing them.
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")
        os.environ.setdefault("NCCL_ASYNC_ERROR_HANDLING", "1")
    import torch.distributed as dist

    backend = "nccl" if device.type == "cuda" else "gloo"
    timeout = datetime.timedelta(seconds=collective_timeout_seconds)
    dist.init_process_group(backend, timeout=timeout)
    ctx = Distributed(rank, world_size, local_rank, local_world_size, device, backend)
    ctx.checkpoint_group = dist.new_group(backend="gloo", timeout=timeout)
    return ctx


__all__ = ["Distributed", "from_environment", "rank_seed", "stop_code", "stop_reason", "STOP_REASONS"]
