"""``run``: the reference loop. Resume from the newest checkpoint every rank can read, train, checkpoint on
an interval, stop cleanly on a signal; the same code for one process and for several under torchrun.

With several processes every decision that changes what the ranks do next is taken together, by one small
all-reduce after each step: whether any rank was asked to stop (SIGTERM, SIGUSR1, a spot notice: one rank
is enough), whether a checkpoint came due by time on any rank's clock, and whether any rank is still
writing the previous checkpoint. So every rank stops after the same step and writes the same
checkpoint; rank 0 alone writes protocol lines, with throughput over all ranks."""

import time

from .checkpoint import Checkpointer
from .config import with_steps_for
from .distributed import from_environment, stop_code, stop_reason
from .hardware import GpuMonitor, peak_tflops
from .progress import NullProgress
from .protocol import EXIT_CHECKPOINTS_INVALID, EXIT_COMPLETED, EXIT_INTERRUPTED
from .sharded_checkpoint import ShardedCheckpointer, load_latest_verified, set_aside
from .trainer import Trainer


def run(cfg, progress, stop, checkpointer_factory=None, dist=None):
    """Returns the exit code: 0 completed, 75 interrupted with a final checkpoint (1 without one), 65 when every
    checkpoint found is invalid (a ``checkpoints-invalid`` event says which and why; ``fromScratch`` starts over)."""
    own_group = dist is None
    dist = dist or from_environment(cfg.device, cfg.collective_timeout_seconds)
    try:
        return _run(cfg, progress if dist.is_main else NullProgress(), stop, checkpointer_factory, dist)
    finally:
        if own_group:
            dist.close()


def _run(cfg, progress, stop, checkpointer_factory, dist):
    cfg = with_steps_for(cfg, dist.world_size)
    trainer = Trainer(cfg, dist)
    world = dist.world_size
    monitor = GpuMonitor(trainer.device)
    peak = peak_tflops(trainer.device, cfg.precision)
    # MFU per GPU: model FLOPs of every rank over the peak of every rank's GPU.
    peak_flops = peak * 1e12 * world if peak else None
    if dist.is_main:
        for note in trainer.parallelism.fallbacks:
            dist.log(note)
    ckpt = None
    if cfg.checkpoint_dir:
        if dist.enabled:
            ckpt = ShardedCheckpointer(cfg.checkpoint_dir, dist, keep=cfg.keep_checkpoints,
                                       asynchronous=cfg.async_checkpoints, on_written=progress.checkpoint_written,
                                       log=dist.log)
        else:
            make = checkpointer_factory or Checkpointer
            ckpt = make(cfg.checkpoint_dir, keep=cfg.keep_checkpoints, asynchronous=cfg.async_checkpoints,
                        on_written=progress.checkpoint_written)
    resumed_from = None
    if ckpt is not None:
        loaded, rejected = load_latest_verified(cfg.checkpoint_dir, dist, dist.log)
        if loaded is None and rejected:
            # Checkpoints were written and every one is damaged: training from step 0 now would silently throw
            # the work away, so that takes an explicit fromScratch.
            if not cfg.from_scratch:
                progress.checkpoints_invalid(ckpt.directory, rejected)
                return EXIT_CHECKPOINTS_INVALID
            folder = set_aside(ckpt.directory, dist, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
            if dist.is_main:
                dist.log("fromScratch: every checkpoint was invalid; set %d aside in %s and starting from step 0"
                         % (len(rejected), folder))
        if loaded is not None:
            trainer.check_resumable(loaded)
            trainer.load_checkpoint(loaded)
            resumed_from = trainer.step
            del loaded

    extra = {"worldSize": world, "parallelism": trainer.parallelism.name}
    if trainer.parallelism.fallbacks:
        extra["fallbacks"] = list(trainer.parallelism.fallbacks)
    progress.started(trainer.step, resumed_from, trainer.tokens_seen, str(trainer.device), cfg.precision,
                     maxSteps=cfg.max_steps, parameters=trainer.parameters, flopsPerToken=trainer.flops_per_token,
                     **extra)

    last_saved = resumed_from
    if cfg.checkpoint_every_steps:
        next_due_step = (trainer.step // cfg.checkpoint_every_steps + 1) * cfg.checkpoint_every_steps
    last_save_time = time.monotonic()
    window_start, window_steps = time.perf_counter(), 0
    timed_seconds, timed_steps, first_step, prepared = 0.0, 0, True, False

    def save():
        nonlocal last_saved, last_save_time
        if dist.enabled:
            replicated, states, own, options = trainer.checkpoint_parts()
            ckpt.save_parts(trainer.step, replicated, states, own, **options)
        else:
            ckpt.save(trainer.step, trainer.state_dict())
        last_saved, last_save_time = trainer.step, time.monotonic()

    def mfu(tps):
        return tps * trainer.flops_per_token / peak_flops if (tps is not None and peak_flops) else None

    reason = dist.agree_stop(stop.requested)
    while trainer.step < cfg.max_steps and reason is None:
        loss = trainer.train_step()
        window_steps += 1
        if not prepared and ckpt is not None and cfg.async_checkpoints and trainer.device.type == "cuda":
            # Pin the host buffers once, after the first step has created the optimizer's moments, so no
            # checkpoint pays for page-locking gigabytes inside the loop.
            if dist.enabled:
                replicated, states, own, options = trainer.checkpoint_parts()
                ckpt.prepare_parts(replicated, states, own, **options)
            else:
                ckpt.prepare(trainer.state_dict())
            prepared = True
        done = trainer.step >= cfg.max_steps
        due_time = bool(ckpt is not None and cfg.checkpoint_every_seconds
                        and time.monotonic() - last_save_time >= cfg.checkpoint_every_seconds)
        code, due_time, busy = dist.all_max([stop_code(stop.requested), due_time, ckpt is not None and ckpt.busy])
        reason = stop_reason(code)
        if trainer.step % cfg.log_every == 0 or done or reason is not None:
            loss_value = dist.mean(loss)  # synchronises the device, so the window's time is real
            elapsed = time.perf_counter() - window_start
            tps = window_steps * trainer.tokens_per_step / elapsed if elapsed > 0 else 0.0
            if first_step:
                first_step = False  # the first window holds warm-up and compilation
            else:
                timed_seconds += elapsed
                timed_steps += window_steps
            progress.step(trainer.step, loss_value, tps, trainer.tokens_seen, monitor.utilization(),
                          monitor.memory_gib(), learningRate=trainer.learning_rate, mfu=mfu(tps))
            window_start, window_steps = time.perf_counter(), 0
        if ckpt is not None and not done and reason is None:
            every = cfg.checkpoint_every_steps
            due_steps = every and trainer.step >= next_due_step
            # A checkpoint that comes due while the previous one is still being written waits for a later
            # step rather than stalling the loop: the loop only ever blocks for the copy to host memory.
            if (due_steps or due_time) and not busy:
                save()
                if every:
                    next_due_step = (trainer.step // every + 1) * every
        if cfg.step_delay_seconds and not done:
            time.sleep(cfg.step_delay_seconds)
        if reason is None and not dist.enabled:
            # A lone process also honours a stop that arrived while it logged or checkpointed; several
            # processes take that one up after the next step, at their next agreement.
            reason = stop.requested

    if trainer.step >= cfg.max_steps:
        if ckpt is not None:
            if last_saved != trainer.step:
                save()
            ckpt.wait()
        tps = timed_steps * trainer.tokens_per_step / timed_seconds if timed_seconds > 0 else None
        weights = trainer.weights_sha256()
        progress.completed(trainer.step, trainer.tokens_seen, weights, tokensPerSecond=tps, mfu=mfu(tps),
                           precision=cfg.precision, device=str(trainer.device))
        return EXIT_COMPLETED

    checkpoint_step = None
    if ckpt is not None:
        if last_saved != trainer.step:
            save()
        ckpt.wait()
        checkpoint_step = trainer.step
    progress.interrupted(trainer.step, reason, checkpoint_step)
    # Without a checkpoint directory nothing can be resumed: that is a failure, not exit 75.
    return EXIT_INTERRUPTED if checkpoint_step is not None else 1


__all__ = ["run"]
