"""Peak GPU memory of one full training step of the reference trainer (after warm-up), for several
precisions, micro-batches, sequence lengths, attention kernels and activation checkpointing. Writes the
fixture the core memory model is checked against:

    python3 packages/trainer/bench/measure_peak_memory.py --out packages/core/test/fixtures/gpt-peak-memory-h100.json

Each configuration runs in its own process so one run's cached allocations cannot inflate the next."""

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


def measure(name, overrides, warmup=2):
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
        "peakAllocatedBytes": int(torch.cuda.max_memory_allocated()),
        "peakReservedBytes": int(torch.cuda.max_memory_reserved()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "core", "test", "fixtures",
                                                  "gpt-peak-memory-h100.json"))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, dict(RUNS)[args.one])))
        return
    import torch

    runs = []
    for name, _ in RUNS:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", name], capture_output=True, text=True)
        if p.returncode != 0:
            print("%s failed:\n%s" % (name, p.stderr[-3000:]), file=sys.stderr)
            continue
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), flush=True)
    result = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "measuredAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace(
                  "+00:00", "Z"),
              "runs": runs}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
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
