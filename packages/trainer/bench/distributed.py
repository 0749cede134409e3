"""Throughput of the reference trainer on 1 to 8 GPUs of one machine, under DDP and FSDP, and the cost of its
sharded checkpoints: the figures docs/trainer.md quotes for several processes.

For each sharding and each number of processes it runs the real command under torchrun
(``python -m frugal_trainer.torchrun --standalone --nproc_per_node N``), reads its protocol events and prints
one JSON line: global tokens/s (mean after the first logging window), MFU per GPU, scaling efficiency against
the same sharding on one process (tokens/s over N x the one-process tokens/s), and per checkpoint the bytes,
the seconds the loop was blocked and the seconds until the manifest was durable, per GB.

    # on a machine with 8 GPUs: DDP and FSDP, bf16, the H100 reference model
    python3 packages/trainer/bench/distributed.py --out distributed.json --checkpoint-dir ./.bench-ckpt

    # a smoke run on CPU (gloo), tiny model
    python3 packages/trainer/bench/distributed.py --processes 1,2 --shardings none,zero1 --steps 12 -- \\
        --device cpu --precision fp32 --layers 2 --hidden-size 64 --heads 4 --vocab-size 256 \\
        --sequence-length 32 --micro-batch-size 4
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
# The model of the single-GPU figures in docs/trainer.md: 219,314,176 parameters.
REFERENCE_MODEL = ["--layers", "12", "--hidden-size", "1024", "--heads", "16", "--vocab-size", "32768",
                   "--sequence-length", "1024", "--micro-batch-size", "16", "--grad-clip", "0"]


def default_processes():
    try:
        import torch

        gpus = torch.cuda.device_count()
    except ImportError:
        gpus = 0
    counts = [n for n in (1, 2, 4, 8) if n <= max(1, gpus)]
    return ",".join(str(n) for n in counts)


def run_once(processes, sharding, steps, trainer_flags, checkpoint_dir, timeout):
    """One torchrun launch; returns its events, exit code and wall seconds."""
    if os.path.exists(checkpoint_dir):
        shutil.rmtree(checkpoint_dir)
    argv = [sys.executable, "-m", "frugal_trainer.torchrun", "--standalone", "--nnodes", "1",
            "--nproc_per_node", str(processes), "--no_python", sys.executable, "-m", "frugal_trainer",
            "--sharding", sharding, "--max-steps", str(steps), "--warmup-steps", "2", "--log-every", "5",
            "--checkpoint-dir", checkpoint_dir, "--checkpoint-every-steps", str(max(1, steps // 2)),
            "--keep-checkpoints", "1"] + trainer_flags
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), PYTHONUNBUFFERED="1",
               PET_MONITOR_INTERVAL="1")
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    wall = time.perf_counter() - t0
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return events, done.returncode, wall, done.stderr


def summarize(processes, sharding, events, code, wall):
    started = next((e for e in events if e["event"] == "started"), {})
    completed = next((e for e in events if e["event"] == "completed"), {})
    checkpoints = [{"step": c["step"], "gb": c["bytes"] / 1e9, "blockingSeconds": c["blockingSeconds"],
                    "totalSeconds": c["totalSeconds"],
                    "blockingSecondsPerGB": c["blockingSeconds"] / (c["bytes"] / 1e9) if c["bytes"] else None,
                    "totalSecondsPerGB": c["totalSeconds"] / (c["bytes"] / 1e9) if c["bytes"] else None}
                   for c in events if c["event"] == "checkpoint"]
    return {"processes": processes, "sharding": sharding, "parallelism": started.get("parallelism"),
            "fallbacks": started.get("fallbacks", []), "exit": code, "wallSeconds": wall,
            "parameters": started.get("parameters"), "tokensPerSecond": completed.get("tokensPerSecond"),
            "mfu": completed.get("mfu"), "device": completed.get("device"), "checkpoints": checkpoints}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", default=default_processes(), help="comma-separated (default: 1, 2, 4, 8 up to "
                                                                      "the GPUs present)")
    ap.add_argument("--shardings", default="none,fsdp", help="comma-separated sharding values (default none,fsdp)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--checkpoint-dir", default=None, help="where the checkpoints go (default: a temp directory; "
                                                           "use the disk you would train on)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--out", default=None, help="also write the rows to this JSON file")
    ap.add_argument("trainer_flags", nargs="*", help="after --: flags for the trainer (default: the reference model, "
                                                     "bf16)")
    args = ap.parse_args()
    flags = args.trainer_flags or REFERENCE_MODEL + ["--precision", "bf16"]
    base = args.checkpoint_dir or tempfile.mkdtemp(prefix="frugal-bench-")
    rows = []
    for sharding in args.shardings.split(","):
        single = None
        for processes in (int(n) for n in args.processes.split(",")):
            events, code, wall, stderr = run_once(processes, sharding, args.steps, flags,
                                                  os.path.join(base, "%s-%d" % (sharding, processes)), args.timeout)
            row = summarize(processes, sharding, events, code, wall)
            if code != 0:
                row["stderrTail"] = stderr[-2000:]
            tps = row["tokensPerSecond"]
            if processes == 1:
                single = tps
            row["scalingEfficiency"] = tps / (processes * single) if (tps and single) else None
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)
    print("\n%-9s %-22s %5s %14s %8s %9s %16s %16s" % ("sharding", "parallelism", "procs", "tokens/s", "MFU",
                                                        "scaling", "ckpt block s/GB", "ckpt total s/GB"))
    for r in rows:
        last = r["checkpoints"][0] if r["checkpoints"] else {}

        def fmt(v, spec):
            return spec % v if v is not None else "-"

        print("%-9s %-22s %5d %14s %8s %9s %16s %16s" % (
            r["sharding"], r["parallelism"] or "-", r["processes"], fmt(r["tokensPerSecond"], "%.0f"),
            fmt(None if r["mfu"] is None else 100 * r["mfu"], "%.1f%%"), fmt(r["scalingEfficiency"], "%.3f"),
            fmt(last.get("blockingSecondsPerGB"), "%.3f"), fmt(last.get("totalSecondsPerGB"), "%.2f")))
    if not args.checkpoint_dir:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
