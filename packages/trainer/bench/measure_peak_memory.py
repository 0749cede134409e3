"""Peak GPU memory of one full training step of the reference trainer (after warm-up), for several
precisions, micro-batches, sequence lengths, attention kernels and activation checkpointing, and the
training throughput of the same configuration. Writes the fixture the core memory model is checked
against:

    python3 packages/trainer/bench/measure_peak_memory.py --out packages/core/test/fixtures/gpt-peak-memory-h100.json

The first nine runs were measured on an H100 (2026-11-23). The `HELD_OUT` runs (widths 768-4096, sequences
512-4096, fp32/bf16/fp16) have not been measured yet; on a GPU machine, add them to the fixture without
touching the others:

    python3 packages/trainer/bench/measure_peak_memory.py --only held-out --merge

Each merged run records its own device and torch version. Each configuration runs in its own process so
one run's cached allocations cannot inflate the next."""

import argparse
import datetime
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

# A small GPT (GPT-2-small shape, untied head) and the 219M benchmark model.
SMALL = dict(layers=12, hidden_size=768, heads=12, vocab_size=32768)
BENCH = dict(layers=12, hidden_size=1024, heads=16, vocab_size=32768)
RUNS = [
    ("small-fp32-b8-s1024", dict(SMALL, precision="fp32", micro_batch_size=8, sequence_length=1024)),
    ("small-bf16-b8-s1024", dict(SMALL, precision="bf16", micro_batch_size=8, sequence_length=1024)),
    ("small-fp16-b8-s1024", dict(SMALL, precision="fp16", micro_batch_size=8, sequence_length=1024)),
    ("small-bf16-b16-s1024", dict(SMALL, precision="bf16", micro_batch_size=16, sequence_length=1024)),
    ("small-bf16-b8-s2048", dict(SMALL, precision="bf16", micro_batch_size=8, sequence_length=2048)),
    ("small-bf16-b8-s1024-actckpt", dict(SMALL, precision="bf16", micro_batch_size=8, sequence_length=1024,
                                         activation_checkpointing=True)),
    ("small-bf16-b8-s1024-unfused", dict(SMALL, precision="bf16", micro_batch_size=8, sequence_length=1024,
                                         fused_attention=False)),
    ("small-fp32-b4-s512", dict(SMALL, precision="fp32", micro_batch_size=4, sequence_length=512)),
    ("bench-bf16-b16-s1024", dict(BENCH, precision="bf16", micro_batch_size=16, sequence_length=1024)),
]

# Shapes the memory model was not derived or checked on: wider models, longer sequences, all three precisions.
# Sized to fit one 80 GB GPU (the widest fp32 run peaks at the optimizer step, about 16 bytes per parameter).
W1024 = dict(layers=12, hidden_size=1024, heads=16, vocab_size=32768)
W2048 = dict(layers=12, hidden_size=2048, heads=16, vocab_size=32768)
W3072 = dict(layers=8, hidden_size=3072, heads=24, vocab_size=32768)
W4096 = dict(layers=8, hidden_size=4096, heads=32, vocab_size=32768)
HELD_OUT = [
    ("w768-fp16-b16-s512", dict(SMALL, precision="fp16", micro_batch_size=16, sequence_length=512)),
    ("w1024-fp32-b4-s2048", dict(W1024, precision="fp32", micro_batch_size=4, sequence_length=2048)),
    ("w2048-bf16-b4-s1024", dict(W2048, precision="bf16", micro_batch_size=4, sequence_length=1024)),
    ("w2048-fp32-b2-s1024", dict(W2048, precision="fp32", micro_batch_size=2, sequence_length=1024)),
    ("w2048-fp16-b1-s4096", dict(W2048, precision="fp16", micro_batch_size=1, sequence_length=4096)),
    ("w2048-bf16-b4-s1024-actckpt", dict(W2048, precision="bf16", micro_batch_size=4, sequence_length=1024,
                                         activation_checkpointing=True)),
    ("w3072-bf16-b2-s2048", dict(W3072, precision="bf16", micro_batch_size=2, sequence_length=2048)),
    ("w4096-bf16-b1-s4096", dict(W4096, precision="bf16", micro_batch_size=1, sequence_length=4096)),
    ("w4096-fp32-b1-s512", dict(W4096, precision="fp32", micro_batch_size=1, sequence_length=512)),
]
ALL_RUNS = RUNS + HELD_OUT


def measure(name, overrides, warmup=2, timed_steps=5):
    import time

    import torch

    from frugal_trainer.config import TrainConfig, validate
    from frugal_trainer.trainer import Trainer

    cfg = validate(TrainConfig(**dict(overrides, device="cuda:0", max_steps=1000, warmup_steps=10)))
    trainer = Trainer(cfg)
    for _ in range(warmup):
        trainer.train_step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    float(trainer.train_step())
    torch.cuda.synchronize()
    peak_allocated = int(torch.cuda.max_memory_allocated())
    peak_reserved = int(torch.cuda.max_memory_reserved())
    started = time.perf_counter()
    for _ in range(timed_steps):
        trainer.train_step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - started) / timed_steps
    m = trainer.model
    return {
        "name": name,
        "model": {"layers": cfg.layers, "hiddenSize": cfg.hidden_size, "heads": cfg.heads,
                  "vocabSize": cfg.vocab_size, "sequenceLength": cfg.sequence_length,
                  "parameters": m.parameter_count()},
        "precision": cfg.precision,
        "microBatchSize": cfg.micro_batch_size,
        "optimizer": "adamw",
        "fusedAttention": bool(m.blocks[0].attn.fused),
        "activationCheckpointing": cfg.activation_checkpointing,
        "peakAllocatedBytes": peak_allocated,
        "peakReservedBytes": peak_reserved,
        "tokensPerSecond": round(cfg.tokens_per_step / seconds, 1),
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "core", "test", "fixtures",
                                                  "gpt-peak-memory-h100.json"))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--only", help="comma-separated run names, or held-out for the runs not measured yet")
    ap.add_argument("--merge", action="store_true", help="keep the fixture's other runs; replace those measured now")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, dict(ALL_RUNS)[args.one])))
        return
    import torch

    if args.only == "held-out":
        names = [name for name, _ in HELD_OUT]
    elif args.only:
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in dict(ALL_RUNS)]
        if unknown:
            ap.error("unknown run(s): %s" % ", ".join(unknown))
    else:
        names = [name for name, _ in RUNS]
    runs = []
    for name in names:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", name], capture_output=True, text=True)
        if p.returncode != 0:
            print("%s failed:\n%s" % (name, p.stderr[-3000:]), file=sys.stderr)
            continue
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), flush=True)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    for run in runs:
        run["measuredAt"] = now
    result = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "measuredAt": now, "runs": runs}
    if args.merge and os.path.exists(args.out):
        with open(args.out) as f:
            result = json.load(f)
        fresh = {run["name"]: run for run in runs}
        result["runs"] = [fresh.pop(run["name"], run) for run in result["runs"]] + list(fresh.values())
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    # Temp file + rename: an interrupted run never leaves a half-written fixture.
    temp = args.out + ".tmp"
    with open(temp, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(temp, args.out)
    print()
    print("| name | params | precision | batch | seq | fused attn | act ckpt | peak allocated GiB | peak reserved GiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print("| %s | %.1fM | %s | %d | %d | %s | %s | %.2f | %.2f |" % (
            r["name"], r["model"]["parameters"] / 1e6, r["precision"], r["microBatchSize"],
            r["model"]["sequenceLength"], r["fusedAttention"], r["activationCheckpointing"],
            r["peakAllocatedBytes"] / 2 ** 30, r["peakReservedBytes"] / 2 ** 30))


if __name__ == "__main__":
    main()
