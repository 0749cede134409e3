"""Your own DDP training script, supervisable by Frugal on several processes with the guarantees of the
reference trainer: a signal to any rank stops every rank after the same step with one checkpoint (exit 75),
and a resumed run ends with bitwise the same weights as an uninterrupted one on as many processes.

    PYTHONPATH=packages/trainer torchrun --standalone --nnodes 1 --nproc_per_node 2 --no_python \\
        python3 examples/ddp/train.py --checkpoint-dir /tmp/ck
    frugal drill examples/ddp/workload.yaml        # run.processesPerNode: 2

What it does for that, numbered below:
  1. joins torchrun's process group (gloo on CPU, NCCL on GPUs) and a group for the checkpoint writers;
  2. trains on its own share of one data stream: batch ``micro_batch_index(cursor, 0, world, rank)``, with a
     cursor that counts the batches of every rank (so it means the same on any number of them);
  3. settles DDP's gradient buckets before its first step (with 3+ ranks an all-reduce adds in bucket order);
  4. agrees with the other ranks after every step on whether to stop (one small all-reduce);
  5. checkpoints on every rank at the same step into one sharded checkpoint, complete once rank 0 has written
     the manifest naming every shard with its sha256, and resumes from the newest one every rank can read,
     each rank with its own RNG state;
  6. prints protocol lines from rank 0 only.
"""

import argparse
import os
import sys
import time

import torch
from torch.nn.parallel import DistributedDataParallel

from frugal_trainer import (EXIT_COMPLETED, EXIT_INTERRUPTED, NullProgress, Progress, ShardedCheckpointer, StopSignal,
                            from_environment, load_latest_agreed, micro_batch_index, rank_seed, rng_state,
                            set_rng_state, settle_ddp_buckets)
from frugal_trainer.trainer import weights_sha256

ap = argparse.ArgumentParser()
ap.add_argument("--checkpoint-dir", default=os.environ.get("FRUGAL_CHECKPOINT_DIR", "checkpoints"))
ap.add_argument("--steps", type=int, default=60)
ap.add_argument("--every", type=int, default=10)
ap.add_argument("--step-seconds", type=float, default=0.0, help="sleep after each step (drills)")
args = ap.parse_args()

ROWS = 8  # samples per batch
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
dist = from_environment(device="cpu")  # 1
stop = StopSignal().install()
progress = Progress() if dist.is_main else NullProgress()  # 6

torch.manual_seed(0)  # the same initial weights on every rank
model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(64, 1))
torch.manual_seed(rank_seed(0, dist.rank))  # but dropout masks of its own
net = DistributedDataParallel(model) if dist.enabled else model
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
ckpt = ShardedCheckpointer(args.checkpoint_dir, dist, keep=2, on_written=progress.checkpoint_written)


def batch(index):
    """Batch ``index`` of the data stream: a function of the index alone, so a resume replays it exactly."""
    g = torch.Generator().manual_seed(index)
    x = torch.randn(ROWS, 16, generator=g)
    return x, x.sum(dim=1, keepdim=True)


def loss_on(index):
    x, y = batch(index)
    return ((net(x) - y) ** 2).mean()


step, cursor, resumed = 0, 0, None
loaded = load_latest_agreed(args.checkpoint_dir, dist, dist.log)  # 5
if loaded is not None:
    model.load_state_dict(loaded.state["model"])
    opt.load_state_dict(dict(loaded.state["optimizer"], state=loaded.optimizer_states))
    step, cursor, resumed = loaded.step, loaded.state["cursor"], loaded.step
    if loaded.world_size == dist.world_size:
        set_rng_state(loaded.rngs[dist.rank])
progress.started(step, resumed, cursor * ROWS, "cpu", "fp32", worldSize=dist.world_size)


last_saved = resumed


def save():  # 5: every rank, at the same step
    global last_saved
    last_saved = step
    state = opt.state_dict()
    replicated = {"model": model.state_dict(), "optimizer": {"param_groups": state["param_groups"]},
                  "cursor": cursor, "step": step}
    # DDP keeps every optimizer state on every rank: each rank writes its share of them.
    ckpt.save_parts(step, replicated, state["state"], {"rng": rng_state()}, states_everywhere=True)


if dist.enabled:
    settle_ddp_buckets(net, lambda: loss_on(0))  # 3
while step < args.steps:
    loss = loss_on(micro_batch_index(cursor, 0, dist.world_size, dist.rank))  # 2
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    step, cursor = step + 1, cursor + dist.world_size
    reason = dist.agree_stop(stop.requested)  # 4
    progress.step(step, loss.item(), 0.0, cursor * ROWS)
    if reason is not None:
        save()
        ckpt.wait()
        progress.interrupted(step, reason, step)
        dist.close()
        sys.exit(EXIT_INTERRUPTED)
    if step % args.every == 0:
        save()  # returns after the copy; the shard is written in the background
    time.sleep(args.step_seconds)

if last_saved != step:
    save()
ckpt.wait()
progress.completed(step, cursor * ROWS, weights_sha256(model))
dist.close()
sys.exit(EXIT_COMPLETED)
