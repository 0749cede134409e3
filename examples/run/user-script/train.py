"""A user's own training loop, in plain Python (no PyTorch), that speaks the Frugal trainer protocol.

It fits y = 3x - 2 by stochastic gradient descent on a deterministic data stream, and shows what
any script needs for `frugal run` and `frugal drill`:
  * print one JSON object per line on stdout: started, step, checkpoint, interrupted, completed;
  * checkpoint atomically (write a temp file, fsync, rename) into $FRUGAL_CHECKPOINT_DIR, and resume
    from it: parameters, the step and the data cursor, so a resumed run is bitwise identical;
  * on SIGTERM finish the step, checkpoint, print `interrupted` and exit 75.
"""
import hashlib
import json
import os
import signal
import struct
import sys
import time
from datetime import datetime, timezone

args = sys.argv[1:]


def flag(name, default):
    return type(default)(args[args.index(name) + 1]) if name in args else default


MAX_STEPS = flag("--max-steps", 200)
EVERY = flag("--checkpoint-every-steps", 20)
STEP_SECONDS = flag("--step-seconds", 0.005)
TAG = flag("--tag", "")  # echoed back: shell metacharacters in it arrive as plain text
CKPT_DIR = os.environ.get("FRUGAL_CHECKPOINT_DIR", "checkpoints")
CKPT = os.path.join(CKPT_DIR, "state.json")


def emit(event, **fields):
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    print(json.dumps({"event": event, "time": now, **fields}), flush=True)


def save(state):
    os.makedirs(CKPT_DIR, exist_ok=True)
    start = time.monotonic()
    tmp = CKPT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, CKPT)
    took = time.monotonic() - start
    emit("checkpoint", step=state["step"], path=CKPT, bytes=os.path.getsize(CKPT), blockingSeconds=took, totalSeconds=took)


def sample(i):
    # Deterministic "data": x in [-1, 1) from a hash of the sample index.
    x = int.from_bytes(hashlib.sha256(struct.pack("<Q", i)).digest()[:4], "little") / 2**31 - 1.0
    return x, 3.0 * x - 2.0


state = {"step": 0, "w": 0.0, "b": 0.0}
resumed = None
if os.path.exists(CKPT):
    with open(CKPT) as f:
        state = json.load(f)
    resumed = state["step"]

stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
emit("started", step=state["step"], resumedFromStep=resumed, tokensSeen=state["step"], device="cpu",
     precision="fp64", pid=os.getpid(), maxSteps=MAX_STEPS)
if TAG:
    print("tag: " + TAG, file=sys.stderr)

while state["step"] < MAX_STEPS:
    if stop:
        save(state)
        emit("interrupted", step=state["step"], reason="SIGTERM", checkpointStep=state["step"])
        sys.exit(75)
    started = time.monotonic()
    x, y = sample(state["step"])
    error = state["w"] * x + state["b"] - y
    state["w"] -= 0.1 * error * x
    state["b"] -= 0.1 * error
    state["step"] += 1
    time.sleep(STEP_SECONDS)
    emit("step", step=state["step"], loss=error * error, tokensPerSecond=1 / max(time.monotonic() - started, 1e-9),
         tokensSeen=state["step"], gpuUtilization=None, gpuMemoryGiB=None)
    if state["step"] % EVERY == 0 and state["step"] < MAX_STEPS:
        save(state)

weights = hashlib.sha256(struct.pack("<dd", state["w"], state["b"])).hexdigest()
emit("completed", step=state["step"], tokensSeen=state["step"], weightsSha256=weights)
