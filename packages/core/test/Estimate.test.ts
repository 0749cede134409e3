import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ACCELERATORS, acceleratorByName, type AcceleratorSpec } from "../src/Accelerator.ts"
import { estimatePlacement, GPU_COUNTS, meetsInferenceTarget, minimumGpus } from "../src/Estimate.ts"
import { GB, GIB } from "../src/Memory.ts"
import type { Workload } from "../src/Workload.ts"
import { decodeWorkloadFile, workloadsOf } from "../src/WorkloadFile.ts"

const workload = (text: string): Workload => {
  const [w] = workloadsOf(Effect.runSync(decodeWorkloadFile(text, "test.yaml")))
  if (w === undefined) throw new Error("no workload")
  return w
}

const spec = (name: string): AcceleratorSpec => {
  const found = acceleratorByName(name)
  if (found === undefined) throw new Error(`no spec ${name}`)
  return found
}

const finetune7b = workload(`
name: llama-7b-finetune
kind: training
model: { parameters: 7B, layers: 32, hiddenSize: 4096, heads: 32, vocabSize: 32000 }
training: { tokens: 20B, sequenceLength: 4096, microBatchSize: 1, activationCheckpointing: true }
constraints: { deadlineHours: 72 }
`)

const serve175b = workload(`
name: gpt3-serving
kind: inference
model: { parameters: 175B, precision: fp16, layers: 96, hiddenSize: 12288, heads: 96, vocabSize: 50257 }
inference: { tokensPerSecond: 200, sequenceLength: 2048 }
`)

const chat7b = workload(`
name: chat
kind: inference
model: { parameters: 7B, layers: 32, hiddenSize: 4096, heads: 32 }
inference: { tokensPerSecond: 2000 }
`)

const embed = workload(`
name: embed
kind: batch
batch: { gpuHours: 100, referenceGpu: T4 }
`)

describe("estimatePlacement", () => {
  it("reports a breakdown whose parts sum to perGpuGiB, and totalGiB across GPUs", () => {
    for (const w of [finetune7b, serve175b, chat7b, embed]) {
      const e = estimatePlacement(w, spec("H100"), 8)
      const m = e.memory
      const sum = m.weightsGiB + m.gradientsGiB + m.optimizerGiB + m.activationsGiB + m.logitsGiB + m.kvCacheGiB +
        m.overheadGiB
      assert.approximately(m.perGpuGiB, sum, 1e-9, w.name)
      assert.approximately(m.totalGiB, m.perGpuGiB * 8, 1e-9, w.name)
      assert.strictEqual(e.fits, m.perGpuGiB <= 80, w.name)
    }
  })

  it("trains a 7B without sharding on one GPU only if it fits, and shards with FSDP when it does not", () => {
    const one = estimatePlacement(finetune7b, spec("H100"), 1)
    assert.strictEqual(one.sharding, "none")
    // At the optimizer step 7B × 16 bytes (fp32 weights, gradients, two moments) ≈ 104 GiB: never fits 80 GiB unsharded.
    assert.isFalse(one.fits)
    assert.isAbove(one.memory.perGpuGiB, (7e9 * 16) / GIB)
    const eight = estimatePlacement(finetune7b, spec("H100"), 8)
    assert.strictEqual(eight.sharding, "fsdp")
    assert.isTrue(eight.fits)
    assert.approximately(eight.memory.optimizerGiB, (7e9 * 8) / 8 / GIB, 1e-9)
  })

  it("keeps the spec's sharding when it names one", () => {
    const zero2 = workload(`
name: z2
kind: training
model: { parameters: 1B, sharding: zero2 }
training: { tokens: 1B }
`)
    assert.strictEqual(estimatePlacement(zero2, spec("A100-80GB"), 4).sharding, "zero2")
  })

  it("makes training faster on more GPUs, but less than linearly", () => {
    const eight = estimatePlacement(finetune7b, spec("H100"), 8)
    const sixtyFour = estimatePlacement(finetune7b, spec("H100"), 64)
    assert.isBelow(sixtyFour.hours, eight.hours)
    assert.isAbove(sixtyFour.hours, eight.hours / 8)
    assert.strictEqual(estimatePlacement(finetune7b, spec("H100"), 1).scalingEfficiency, 1)
  })

  it("estimates the 7B fine-tune (20B tokens) on 8 H100s at about 115 hours", () => {
    const e = estimatePlacement(finetune7b, spec("H100"), 8)
    // (6·7e9 + 6·32·4096·4096)·20e9 ≈ 9.04e20 FLOPs, ×4/3 for recomputation, at 989.4 TFLOP/s × 0.40 × 8 × 0.95 × 0.97.
    const expected = (9.0443e20 * 4) / 3 / (989.4e12 * 0.4 * 8 * 0.95 * 0.97) / 3600
    assert.approximately(e.hours, expected, expected * 0.001)
    assert.strictEqual(e.mfu, 0.4)
  })

  it("uses a calibrated MFU when given one", () => {
    const e = estimatePlacement(finetune7b, spec("H100"), 8, { mfu: 0.2 })
    assert.approximately(e.hours, estimatePlacement(finetune7b, spec("H100"), 8).hours * 2, 1e-9)
  })

  it("reports inference hours per month and tokens per second per GPU", () => {
    const e = estimatePlacement(chat7b, spec("H100"), 2)
    assert.strictEqual(e.hours, 730)
    assert.approximately((e.tokensPerSecondPerGpu ?? 0) * 2, 2000, 1e-6)
    assert.isAbove(e.memory.kvCacheGiB, 0)
    assert.strictEqual(e.memory.optimizerGiB, 0)
  })

  it("scales batch GPU-hours by relative speed against the reference GPU", () => {
    assert.strictEqual(estimatePlacement(embed, spec("T4"), 1).hours, 100)
    assert.strictEqual(estimatePlacement(embed, spec("T4"), 4).hours, 25)
    assert.isBelow(estimatePlacement(embed, spec("H100"), 1).hours, 100 / 5)
  })
})

describe("minimumGpus", () => {
  it("places 175B fp16 serving only where the GPUs hold at least 350 GB in total", () => {
    let placed = 0
    for (const accelerator of ACCELERATORS) {
      const gpus = minimumGpus(serve175b, accelerator)
      if (gpus === null) continue
      placed++
      assert.isAtLeast(gpus * accelerator.memoryGiB * GIB, 350 * GB, accelerator.name)
    }
    assert.isAtLeast(placed, 3)
    assert.strictEqual(minimumGpus(serve175b, spec("H100")), 8)
    assert.strictEqual(minimumGpus(serve175b, spec("A100-40GB")), null)
  })

  it("returns the smallest count that works: the one below it does not", () => {
    for (const w of [finetune7b, chat7b]) {
      for (const accelerator of ACCELERATORS) {
        const gpus = minimumGpus(w, accelerator)
        if (gpus === null) continue
        const ok = (n: number) =>
          w.kind === "inference" ? meetsInferenceTarget(w, accelerator, n) : estimatePlacement(w, accelerator, n).fits
        assert.isTrue(ok(gpus), `${w.name} on ${accelerator.name} at ${gpus}`)
        const index = GPU_COUNTS.indexOf(gpus)
        const below = GPU_COUNTS[index - 1]
        if (below !== undefined) assert.isFalse(ok(below), `${w.name} on ${accelerator.name} at ${below}`)
      }
    }
  })

  it("does not train on accelerators without CUDA", () => {
    for (const name of ["Trainium", "Trainium2", "Inferentia2", "Gaudi", "Radeon-V520"]) {
      assert.strictEqual(minimumGpus(finetune7b, spec(name)), null, name)
    }
    assert.isNotNull(minimumGpus(finetune7b, spec("H100")))
  })

  it("sizes training on a non-CUDA accelerator only when the caller allows it (the workload names it), and never without peak figures", () => {
    assert.isNotNull(minimumGpus(finetune7b, spec("Trainium"), { allowNonCuda: true }))
    assert.isNotNull(minimumGpus(finetune7b, spec("Trainium2"), { allowNonCuda: true }))
    // Gaudi has no published peak figure in the spec table: it still cannot be estimated.
    assert.strictEqual(minimumGpus(finetune7b, spec("Gaudi"), { allowNonCuda: true }), null)
  })

  it("serves a 7B chat service at 2000 tokens/s on one H200 but needs more smaller GPUs", () => {
    assert.strictEqual(minimumGpus(chat7b, spec("H200")), 1)
    const l4 = minimumGpus(chat7b, spec("L4"))
    assert.isNotNull(l4)
    assert.isAbove(l4 ?? 0, 1)
  })

  it("runs a batch job on one GPU with at least the reference GPU's memory, and not on smaller ones", () => {
    assert.strictEqual(minimumGpus(embed, spec("L4")), 1)
    assert.strictEqual(minimumGpus(embed, spec("Radeon-V520")), null)
    assert.strictEqual(minimumGpus(embed, spec("Inferentia")), null)
  })

  it("lists 1, 2, 4, then multiples of 8 up to 1024", () => {
    assert.deepStrictEqual(GPU_COUNTS.slice(0, 6), [1, 2, 4, 8, 16, 24])
    assert.strictEqual(GPU_COUNTS.at(-1), 1024)
    assert.strictEqual(GPU_COUNTS.length, 131)
  })

  it("answers for a whole catalog fast enough for a 10,000-workload fleet", () => {
    // Not a timing assertion: a bound on work. Each call evaluates at most 4 + 1 + 7 placements.
    let calls = 0
    for (const accelerator of ACCELERATORS) {
      for (const w of [finetune7b, serve175b, chat7b, embed]) {
        minimumGpus(w, accelerator)
        calls++
      }
    }
    assert.strictEqual(calls, ACCELERATORS.length * 4)
  })
})
