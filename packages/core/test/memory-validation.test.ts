/**
 * The memory model against real peak memory: GPTs trained by the reference trainer on an H100
 * (packages/trainer/bench/measure_peak_memory.py wrote the fixture). The estimate of the tensors a step allocates
 * (perGpuGiB less the context/fragmentation overhead) must be within 10% of `torch.cuda.max_memory_allocated()`.
 * Allocated, not reserved: reserved adds the caching allocator's slack, which the overhead term covers separately,
 * and the CUDA context is in neither figure.
 *
 * No constant of the model is fitted to these runs: every term is counted from the tensors the trainer's ops keep
 * (docs/estimates.md), so every run is a held-out check. Runs the bench adds later (`--only held-out --merge`) are
 * checked the same way, and where they carry a measured throughput, so is the throughput estimate.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { acceleratorByName } from "../src/Accelerator.ts"
import { estimatePlacement, trainingMemory } from "../src/Estimate.ts"
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
  peakReservedBytes: Schema.Number,
  /** Training tokens per second on the one GPU (runs measured since the throughput was added to the bench). */
  tokensPerSecond: Schema.optionalKey(Schema.Number),
  device: Schema.optionalKey(Schema.String),
  torch: Schema.optionalKey(Schema.String)
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

const errorOf = (run: Run): number => (estimatedAllocatedBytes(run) - run.peakAllocatedBytes) / run.peakAllocatedBytes

describe(`memory model vs ${fixture.device} (torch ${fixture.torch})`, () => {
  it.each(fixture.runs.map((run) => [run.name, run] as const))(
    "estimates %s within 10% of the measured peak allocated memory",
    (_, run) => {
      const error = errorOf(run)
      console.log(
        `| ${run.name} | ${(run.peakAllocatedBytes / GIB).toFixed(2)} | ${(estimatedAllocatedBytes(run) / GIB).toFixed(2)} | ${(error * 100).toFixed(1)}% |`
      )
      assert.isAtMost(Math.abs(error), 0.1)
    }
  )

  it("has no systematic bias: the mean error over the runs is within 5%", () => {
    const errors = fixture.runs.map(errorOf)
    const mean = errors.reduce((sum, e) => sum + e, 0) / errors.length
    assert.isAtMost(Math.abs(mean), 0.05)
  })

  // Only runs measured since the bench records throughput carry it; none of the first nine does.
  it.runIf(fixture.runs.some((run) => run.tokensPerSecond !== undefined))("estimates training throughput within 25% where a run measured it (H100, default MFU)", () => {
    const h100 = acceleratorByName("H100")
    if (h100 === undefined) throw new Error("no H100 spec")
    for (const run of fixture.runs) {
      if (run.tokensPerSecond === undefined) continue
      const estimate = estimatePlacement(workloadOf(run), h100, 1)
      const error = ((estimate.tokensPerSecondPerGpu ?? 0) - run.tokensPerSecond) / run.tokensPerSecond
      assert.isAtMost(Math.abs(error), 0.25, run.name)
    }
  })

  it("covers at least three configurations varying precision, batch and sequence", () => {
    const runs = fixture.runs
    assert.isAtLeast(runs.length, 3)
    assert.isAtLeast(new Set(runs.map((r) => r.precision)).size, 2)
    assert.isAtLeast(new Set(runs.map((r) => r.microBatchSize)).size, 2)
    assert.isAtLeast(new Set(runs.map((r) => r.model.sequenceLength)).size, 2)
  })
})
