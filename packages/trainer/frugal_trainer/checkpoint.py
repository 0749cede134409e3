"""``Checkpointer``: atomic, checksummed, asynchronous checkpoints that keep the last K.

A save copies the state to host memory (pinned buffers and non-blocking copies on CUDA, reused from one
save to the next) and returns; a background thread writes ``step-NNNNNNNN.ckpt`` to a temp file, fsyncs
it, renames it into place, writes the sha256 sidecar the same way and fsyncs the directory. A checkpoint
counts only when its sidecar matches its bytes, so a torn or truncated newest file is skipped and the
previous one is used. At most one write runs at a time: a save waits for the one before."""

import glob
import hashlib
import os
import re
import sys
import threading
import time

import torch

from . import serialization

_NAME = re.compile(r"^step-(\d{8,})\.ckpt$")


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename is still atomic
    finally:
        os.close(fd)


def _write_atomically(path, write):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            result = write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return result


def verify_file(path):
    """The bytes of checkpoint file ``path`` when its sidecar checksum matches, else raises ``ValueError``."""
    try:
        with open(path + ".sha256", "rb") as f:
            fields = f.read().decode("ascii", "replace").split()
    except OSError:
        raise ValueError("no checksum sidecar")
    expected = fields[0] if fields else ""
    size = os.path.getsize(path)
    buf = bytearray(size)
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        view, got = memoryview(buf), 0
        while got < size:
            n = f.readinto(view[got:got + (256 << 20)])
            if not n:
                break
            hasher.update(view[got:got + n])
            got += n
    if got != size or hasher.hexdigest() != expected:
        raise ValueError("checksum mismatch (file torn, truncated or altered)")
    return buf


class CheckpointInfo:
    __slots__ = ("step", "path", "bytes", "sha256", "blocking_seconds", "total_seconds")

    def __init__(self, step, path, nbytes, sha256, blocking_seconds, total_seconds):
        self.step, self.path, self.bytes, self.sha256 = step, path, nbytes, sha256
        self.blocking_seconds, self.total_seconds = blocking_seconds, total_seconds

    def __repr__(self):
        return "CheckpointInfo(step=%d, bytes=%d, blocking=%.3fs, total=%.3fs)" % (
            self.step, self.bytes, self.blocking_seconds, self.total_seconds)


class Checkpointer:
    """``save(step, state)`` a nested dict of tensors and plain values; ``load_latest()`` the newest valid one.

    ``on_written(info)`` is called (from the writer thread when asynchronous) once a checkpoint is durable."""

    def __init__(self, directory, keep=3, asynchronous=True, on_written=None, log=None):
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.directory = os.path.abspath(directory)
        self.keep = keep
        self.asynchronous = asynchronous
        self.on_written = on_written
        self._log = log or (lambda msg: print("frugal-trainer: " + msg, file=sys.stderr, flush=True))
        self._buffers = []
        self._thread = None
        self._error = None
        self.last = None
        os.makedirs(self.directory, exist_ok=True)
        for stale in glob.glob(os.path.join(self.directory, "step-*.ckpt*.tmp.*")):
            try:
                os.unlink(stale)
            except OSError:
                pass

    # ---- saving -------------------------------------------------------------------------------------

    def prepare(self, state):
        """Allocates the host buffers for a state of this shape now, so the first save is as fast as the rest."""
        _, tensors = serialization.flatten(state)
        self._host_buffers(tensors)

    def _host_buffers(self, tensors):
        pin = torch.cuda.is_available() and any(t.is_cuda for t in tensors)
        buffers = []
        for i, t in enumerate(tensors):
            old = self._buffers[i] if i < len(self._buffers) else None
            if old is not None and old.shape == t.shape and old.dtype == t.dtype and (old.is_pinned() or not pin):
                buffers.append(old)
            else:
                buffers.append(torch.empty(t.shape, dtype=t.dtype, pin_memory=pin and t.is_cuda))
        self._buffers = buffers
        return buffers

    def _snapshot(self, state):
        skeleton, tensors = serialization.flatten(state)
        buffers = self._host_buffers(tensors)
        any_cuda = False
        for src, dst in zip(tensors, buffers):
            if src.is_cuda:
                any_cuda = True
                dst.copy_(src.detach(), non_blocking=True)
            else:
                dst.copy_(src.detach())
        if any_cuda:
            torch.cuda.synchronize()
        return skeleton, buffers

    def save(self, step, state, meta=None):
        """Checkpoints ``state`` as of ``step``; returns once the state is copied (asynchronous) or durable.
        Returns the seconds the caller was blocked."""
        t0 = time.perf_counter()
        self.wait()
        skeleton, buffers = self._snapshot(state)
        blocking = time.perf_counter() - t0
        meta = dict(meta or {}, step=int(step))
        if self.asynchronous:
            self._thread = threading.Thread(
                target=self._write_guarded, args=(int(step), skeleton, buffers, meta, t0, blocking),
                name="frugal-checkpoint-writer", daemon=False)
            self._thread.start()
        else:
            self._write(int(step), skeleton, buffers, meta, t0, None)
            blocking = time.perf_counter() - t0
            self.last.blocking_seconds = blocking
            if self.on_written:
                self.on_written(self.last)
        return blocking

    def _write_guarded(self, step, skeleton, buffers, meta, t0, blocking):
        try:
            self._write(step, skeleton, buffers, meta, t0, blocking)
            if self.on_written:
                self.on_written(self.last)
        except BaseException as e:  # surfaced by the next wait()
            self._error = e

    def _write(self, step, skeleton, buffers, meta, t0, blocking):
        name = "step-%08d.ckpt" % step
        path = os.path.join(self.directory, name)
        hasher = hashlib.sha256()
        nbytes = _write_atomically(
            path, lambda f: serialization.write_payload(f, skeleton, buffers, meta, hasher))
        digest = hasher.hexdigest()
        _write_atomically(path + ".sha256", lambda f: f.write(("%s  %s\n" % (digest, name)).encode()))
        _fsync_dir(self.directory)
        self.last = CheckpointInfo(step, path, nbytes, digest, blocking or 0.0, time.perf_counter() - t0)
        self._prune()

    @property
    def busy(self):
        """True while an asynchronous write is in flight (a save now would wait for it)."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self):
        """Blocks until the write in flight (if any) is durable; re-raises its failure."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self.last

    close = wait

    def _prune(self):
        for _, path in self.checkpoints()[self.keep:]:
            for p in (path, path + ".sha256"):
                try:
                    os.unlink(p)
                except OSError:
                    pass

    # ---- loading ------------------------------------------------------------------------------------

    def checkpoints(self):
        """[(step, path)] of the checkpoint files present, newest first (not yet verified)."""
        found = []
        for name in os.listdir(self.directory):
            m = _NAME.match(name)
            if m:
                found.append((int(m.group(1)), os.path.join(self.directory, name)))
        return sorted(found, reverse=True)

    def verify(self, path):
        """The file's bytes when its sidecar checksum matches, else raises ``ValueError`` saying why."""
        return verify_file(path)

    def load_latest(self):
        """(step, state, meta) of the newest checkpoint that verifies, or None; skipped files are logged."""
        for step, path in self.checkpoints():
            try:
                buf = self.verify(path)
                meta, state = serialization.read_payload(buf)
            except (OSError, ValueError, KeyError) as e:
                self._log("skipping checkpoint %s: %s" % (path, e))
                continue
            return step, state, meta
        return None
