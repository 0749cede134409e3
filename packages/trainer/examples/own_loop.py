"""Your own training loop, made interruptible and supervisable by Frugal with three helpers:
``Checkpointer`` (async, atomic, checksummed), ``Progress`` (protocol lines on stdout) and ``StopSignal``
(SIGTERM / SIGUSR1 / spot notice -> finish the step, checkpoint, exit 75).

    PYTHONPATH=packages/trainer python3 packages/trainer/examples/own_loop.py --checkpoint-dir /tmp/ck
"""

import argparse
import sys

import torch

from frugal_trainer import EXIT_COMPLETED, EXIT_INTERRUPTED, Checkpointer, Progress, StopSignal
from frugal_trainer import rng_state, set_rng_state
from frugal_trainer.trainer import weights_sha256

ap = argparse.ArgumentParser()
ap.add_argument("--checkpoint-dir", required=True)
ap.add_argument("--steps", type=int, default=50)
ap.add_argument("--every", type=int, default=10)
args = ap.parse_args()

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(64, 1))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
progress, stop = Progress(), StopSignal().install()
ckpt = Checkpointer(args.checkpoint_dir, keep=2, on_written=progress.checkpoint_written)


def state(step):
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": rng_state(), "step": step}


step, resumed = 0, None
latest = ckpt.load_latest()  # the newest checkpoint whose checksum verifies, or None
if latest is not None:
    step, saved, _ = latest
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["optimizer"])
    set_rng_state(saved["rng"])
    resumed = step
progress.started(step, resumed, step * 32, "cpu", "fp32")

while step < args.steps:
    g = torch.Generator().manual_seed(step)  # data as a function of the step: resume replays it exactly
    x = torch.randn(32, 16, generator=g)
    loss = ((model(x) - x.sum(dim=1, keepdim=True)) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    step += 1
    progress.step(step, loss.item(), 0.0, step * 32)
    if stop.requested:
        ckpt.save(step, state(step))
        ckpt.wait()
        progress.interrupted(step, stop.requested, step)
        sys.exit(EXIT_INTERRUPTED)
    if step % args.every == 0:
        ckpt.save(step, state(step))  # returns after the copy; the write goes on in the background

ckpt.wait()
progress.completed(step, step * 32, weights_sha256(model))
sys.exit(EXIT_COMPLETED)
