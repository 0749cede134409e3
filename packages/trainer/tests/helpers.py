import io
import json
import os
import subprocess
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from frugal_trainer.config import TrainConfig, validate  # noqa: E402
from frugal_trainer.progress import Progress  # noqa: E402

CUDA = torch.cuda.is_available()

# One CPU thread here and in the trainer processes the tests start: tiny models gain nothing from more, CI
# machines are shared, and float reductions must split the same way in both for bitwise-equal hashes.
torch.set_num_threads(1)

# A tiny GPT: a whole run takes well under a second on one CPU core. Dropout on, so exact resume also
# proves the RNG states are restored.
TINY = dict(layers=2, hidden_size=32, heads=2, vocab_size=64, sequence_length=16, micro_batch_size=2,
            gradient_accumulation_steps=2, max_steps=20, warmup_steps=4, dropout=0.1, seed=7)
TINY_FLAGS = ["--layers", "2", "--hidden-size", "32", "--heads", "2", "--vocab-size", "64",
              "--sequence-length", "16", "--micro-batch-size", "2", "--gradient-accumulation-steps", "2",
              "--max-steps", "20", "--warmup-steps", "4", "--dropout", "0.1", "--seed", "7", "--device", "cpu"]


def tiny(**overrides):
    return validate(TrainConfig(**dict(TINY, **dict({"device": "cpu"}, **overrides))))


class RecordingProgress(Progress):
    """Collects events; ``stop_at`` asks ``stop`` to stop once that step's event is written."""

    def __init__(self, stop=None, stop_at=None, reason="SIGTERM"):
        super().__init__(stream=io.StringIO())
        self.events = []
        self._stop, self._stop_at, self._reason = stop, stop_at, reason

    def emit(self, event, **fields):
        obj = super().emit(event, **fields)
        self.events.append(obj)
        if event == "step" and self._stop is not None and fields.get("step") == self._stop_at:
            self._stop.request(self._reason)
        return obj

    def of(self, kind):
        return [e for e in self.events if e["event"] == kind]


class ManualStop:
    def __init__(self):
        self.requested = None

    def request(self, reason):
        if self.requested is None:
            self.requested = reason


def temp_dir(test):
    d = tempfile.TemporaryDirectory(prefix="frugal-trainer-test-")
    test.addCleanup(d.cleanup)
    return d.name


def trainer_process(args, env=None, argv=None, stderr=subprocess.PIPE):
    """Starts ``python -m frugal_trainer`` with this interpreter; stdout is a pipe of protocol lines."""
    full_env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
                    PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    full_env.update(env or {})
    argv = argv or [sys.executable, "-m", "frugal_trainer"]
    return subprocess.Popen(argv + args, stdout=subprocess.PIPE, stderr=stderr, text=True, env=full_env)


def events_of(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def torchrun_process(processes, args, env=None, stderr=subprocess.PIPE, script=None):
    """Starts the reference trainer (or ``script``) on ``processes`` ranks under ``python -m
    frugal_trainer.torchrun`` (torchrun, standalone, gloo on CPU); stdout is rank 0's protocol lines."""
    program = [script] if script else ["-m", "frugal_trainer"]
    launcher = [sys.executable, "-m", "frugal_trainer.torchrun", "--standalone", "--nnodes", "1",
                "--nproc_per_node", str(processes), "--no_python", sys.executable] + program
    # torchrun looks at its workers every 5 s by default; a tenth of that keeps the tests quick.
    return trainer_process(args, env=dict({"PET_MONITOR_INTERVAL": "0.2"}, **(env or {})), argv=launcher,
                           stderr=stderr)


def rank_pid(launcher_pid, rank, timeout=30.0):
    """The process id of ``rank``, a child of the torchrun process ``launcher_pid``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                if parent != launcher_pid:
                    continue
                with open("/proc/%s/environ" % entry, "rb") as f:
                    environ = f.read().split(b"\0")
            except (OSError, ValueError, IndexError):
                continue
            if ("RANK=%d" % rank).encode() in environ:
                return int(entry)
        time.sleep(0.05)
    raise AssertionError("no rank %d under torchrun process %d" % (rank, launcher_pid))
