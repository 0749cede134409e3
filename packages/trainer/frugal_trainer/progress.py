"""``Progress`` writes the trainer protocol (one JSON object per stdout line) for the runner to read.
Use it in your own training loop so ``frugal run`` and ``frugal drill`` can supervise it."""

import datetime
import json
import math
import os
import sys
import threading


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finite_or_none(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class Progress:
    """Emits protocol events. Every method writes one line and flushes, so the runner sees it at once.

    Lines are written under a lock: the background checkpoint writer reports from its own thread."""

    def __init__(self, stream=None, clock=None):
        self._stream = stream if stream is not None else sys.stdout
        self._clock = clock or _now_iso
        self._lock = threading.Lock()

    def emit(self, event, **fields):
        obj = {"event": event, "time": self._clock()}
        obj.update(fields)
        line = json.dumps(obj, separators=(",", ":"), allow_nan=False)
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                # The reader went away (runner killed): progress is advisory, training and checkpoints go on.
                pass
        return obj

    def started(self, step, resumed_from_step, tokens_seen, device, precision, **extra):
        return self.emit(
            "started", step=int(step), resumedFromStep=None if resumed_from_step is None else int(resumed_from_step),
            tokensSeen=int(tokens_seen), device=str(device), precision=str(precision), pid=os.getpid(), **extra)

    def step(self, step, loss, tokens_per_second, tokens_seen, gpu_utilization=None, gpu_memory_gib=None, **extra):
        return self.emit(
            "step", step=int(step), loss=_finite_or_none(loss), tokensPerSecond=max(0.0, float(tokens_per_second)),
            tokensSeen=int(tokens_seen),
            gpuUtilization=_finite_or_none(gpu_utilization), gpuMemoryGiB=_finite_or_none(gpu_memory_gib),
            **{k: v for k, v in extra.items() if v is not None or k == "mfu"})

    def checkpoint(self, step, path, nbytes, blocking_seconds, total_seconds, **extra):
        return self.emit(
            "checkpoint", step=int(step), path=str(path), bytes=int(nbytes),
            blockingSeconds=max(0.0, float(blocking_seconds)), totalSeconds=max(0.0, float(total_seconds)), **extra)

    def checkpoint_written(self, info):
        """Pass as ``Checkpointer(on_written=progress.checkpoint_written)``: reports each durable checkpoint."""
        return self.checkpoint(info.step, info.path, info.bytes, info.blocking_seconds, info.total_seconds,
                               sha256=info.sha256)

    def interrupted(self, step, reason, checkpoint_step):
        return self.emit(
            "interrupted", step=int(step), reason=reason,
            checkpointStep=None if checkpoint_step is None else int(checkpoint_step))

    def checkpoints_invalid(self, checkpoint_dir, rejected):
        """Every checkpoint found failed verification: ``rejected`` is [{path, step, reason}], newest first."""
        return self.emit(
            "checkpoints-invalid", checkpointDir=str(checkpoint_dir),
            rejected=[{"path": str(r["path"]), "step": int(r["step"]), "reason": str(r["reason"])} for r in rejected])

    def completed(self, step, tokens_seen, weights_sha256, **extra):
        return self.emit(
            "completed", step=int(step), tokensSeen=int(tokens_seen), weightsSha256=weights_sha256,
            **{k: v for k, v in extra.items() if v is not None or k == "mfu"})


class NullProgress(Progress):
    """Writes nothing: the progress of ranks other than 0, so a job of several processes prints each event
    once (rank 0 speaks for the job)."""

    def emit(self, event, **fields):
        obj = {"event": event, "time": self._clock()}
        obj.update(fields)
        return obj
