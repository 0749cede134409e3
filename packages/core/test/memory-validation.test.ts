/**
 * The memory model against real peak memory: a small GPT trained by the reference trainer on an H100
 * (packages/trainer/bench/measure_peak_memory.py wrote the fixture). The estimate of the tensors a step allocates
 * (perGpuGiB less the context/fragmentation overhead) must be within 15% of `torch.cuda.max_memory_allocated()`.
 * Allocated, not reserved: reserved adds the caching allocator's slack, which the overhead term covers separately,
 * and the CUDA context is in neither figure.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { trainingMemory } from "../src/Estimate.ts"
import { GIB } from "../src/Memory.ts"
import type { TrainingWorkload } from "../src/Workload.ts"
import { decodeWorkloadFile } from "../src/WorkloadFile.ts"

const Run = Schema.Struct({
  name: Schema.String,
  model: Schema.Struct({
    layers: Schema.Number,
    hiddenSize: Schema.Number,
    heads: Schema.Number,
    vocabSize: Schema.Number,
    sequenceLength: Schema.Number,
    parameters: Schema.Number
  }),
  precision: Schema.Literals(["fp32", "tf32", "bf16", "fp16"]),
  microBatchSize: Schema.Number,
  optimizer: Schema.Literal("adamw"),
  fusedAttention: Schema.Boolean,
  activationCheckpointing: Schema.Boolean,
  peakAllocatedBytes: Schema.Number,
  peakReservedBytes: Schema.Number
})
const Fixture = Schema.Struct({ device: Schema.String, torch: Schema.String, measuredAt: Schema.String, runs: Schema.Array(Run) })
type Run = typeof Run.Type

const fixture = Schema.decodeUnknownSync(Fixture)(
  JSON.parse(readFileSync(fileURLToPath(new URL("./fixtures/gpt-peak-memory-h100.json", import.meta.url)), "utf8"))
)

const workloadOf = (run: Run): TrainingWorkload => {
  const text = JSON.stringify({
    name: "validation",
    kind: "training",
    model: {
      parameters: run.model.parameters,
      precision: run.precision,
      optimizer: run.optimizer,
      layers: run.model.layers,
      hiddenSize: run.model.hiddenSize,
      heads: run.model.heads,
      vocabSize: run.model.vocabSize
    },
    training: {
      tokens: 1e9,
      sequenceLength: run.model.sequenceLength,
      microBatchSize: run.microBatchSize,
      fusedAttention: run.fusedAttention,
      activationCheckpointing: run.activationCheckpointing
    }
  })
  const file = Effect.runSync(decodeWorkloadFile(text, run.name))
  if (file.kind !== "single" || file.workload.kind !== "training") throw new Error("expected one training workload")
  return file.workload
}

/** Estimated bytes of tensors (no context or allocator slack) for one run on one GPU. */
const estimatedAllocatedBytes = (run: Run): number => {
  const memory = trainingMemory(workloadOf(run), 1, "none")
  return (memory.perGpuGiB - memory.overheadGiB) * GIB
}

describe(`memory model vs ${fixture.device} (torch ${fixture.torch})`, () => {
  it.each(fixture.runs.map((run) => [run.name, run] as const))(
    "estimates %s within 15% of the measured peak allocated memory",
    (_, run) => {
      const estimate = estimatedAllocatedBytes(run)
      const error = (estimate - run.peakAllocatedBytes) / run.peakAllocatedBytes
      console.log(
        `| ${run.name} | ${(run.peakAllocatedBytes / GIB).toFixed(2)} | ${(estimate / GIB).toFixed(2)} | ${(error * 100).toFixed(1)}% |`
      )
      assert.isAtMost(Math.abs(error), 0.15)
    }
  )

  it("covers at least three configurations varying precision, batch and sequence", () => {
    const runs = fixture.runs
    assert.isAtLeast(runs.length, 3)
    assert.isAtLeast(new Set(runs.map((r) => r.precision)).size, 2)
    assert.isAtLeast(new Set(runs.map((r) => r.microBatchSize)).size, 2)
    assert.isAtLeast(new Set(runs.map((r) => r.model.sequenceLength)).size, 2)
  })
})
