import { assert, describe, it } from "@effect/vitest"
import { acceleratorByName, type AcceleratorSpec } from "../src/Accelerator.ts"
import {
  decodeTokensPerSecond,
  defaultTrainingMfu,
  recomputeFactor,
  relativeBatchSpeed,
  scalingEfficiency,
  trainingFlopsPerToken,
  trainingHours,
  trainingTokensPerSecondPerGpu
} from "../src/Compute.ts"
import { modelShape } from "../src/ModelShape.ts"

const spec = (name: string): AcceleratorSpec => {
  const found = acceleratorByName(name)
  if (found === undefined) throw new Error(`no spec ${name}`)
  return found
}

/** The reference bench model: 12 × 1024, 16 heads, vocabulary 32,768, sequence 1,024 (219.3M parameters). */
const benchGpt = modelShape({ parameters: 219.3e6, layers: 12, hiddenSize: 1024, heads: 16, vocabSize: 32768 })

describe("Compute model", () => {
  it("counts GPT-3's training compute as 6·N·D ≈ 3.14e23 FLOPs (175B parameters, 300B tokens)", () => {
    const dense = 6 * 175e9 * 300e9
    assert.approximately(dense / 3.14e23, 1, 0.005)
    const shape = modelShape({ parameters: 175e9, layers: 96, hiddenSize: 12288 })
    // Attention adds 6·L·s·h per token: 96·2048·12288·6 ≈ 1.45e10 against 6·N = 1.05e12 (1.4%).
    const total = trainingFlopsPerToken(shape, 2048) * 300e9
    assert.approximately(total / dense, 1 + (6 * 96 * 2048 * 12288) / (6 * 175e9), 1e-12)
  })

  it("reproduces the reference bench: 253,954 tokens/s at 35.7% MFU in bf16 on one H100", () => {
    const perToken = trainingFlopsPerToken(benchGpt, 1024)
    assert.approximately(perToken, 6 * 219.3e6 + 6 * 12 * 1024 * 1024, 1)
    const tokensPerSecond = trainingTokensPerSecondPerGpu({
      spec: spec("H100"),
      precision: "bf16",
      mfu: 0.357,
      efficiency: 1,
      flopsPerToken: perToken,
      activationCheckpointing: false
    })
    assert.approximately(tokensPerSecond, 253_954, 253_954 * 0.01)
  })

  it("turns FLOPs into hours: FLOPs ÷ (peak × MFU × GPUs × efficiency)", () => {
    const hours = trainingHours({
      flops: 989.4e12 * 0.4 * 8 * 0.9 * 3600,
      spec: spec("H100"),
      precision: "bf16",
      mfu: 0.4,
      gpus: 8,
      efficiency: 0.9,
      activationCheckpointing: false
    })
    assert.approximately(hours, 1, 1e-12)
    assert.strictEqual(recomputeFactor(true), 4 / 3)
  })

  it("has no time for an accelerator without published peaks", () => {
    const hours = trainingHours({
      flops: 1e18,
      spec: spec("Gaudi"),
      precision: "bf16",
      mfu: 0.3,
      gpus: 1,
      efficiency: 1,
      activationCheckpointing: false
    })
    assert.strictEqual(hours, Number.POSITIVE_INFINITY)
  })

  it("defaults MFU by class and precision: 0.40 bf16 on H100, 0.30 on L4, fp32 near CUDA-core peak", () => {
    assert.strictEqual(defaultTrainingMfu(spec("H100"), "bf16"), 0.4)
    assert.strictEqual(defaultTrainingMfu(spec("L4"), "bf16"), 0.3)
    assert.strictEqual(defaultTrainingMfu(spec("H100"), "fp32"), 0.7)
    // A100 has no fp8 units: fp8 runs as bf16 and gets bf16's MFU.
    assert.strictEqual(defaultTrainingMfu(spec("A100-80GB"), "fp8"), 0.4)
  })

  it("loses more to scaling over PCIe than NVLink, and more across instances", () => {
    const h100 = spec("H100")
    const l4 = spec("L4")
    assert.strictEqual(scalingEfficiency(h100, 1, "none"), 1)
    assert.isAbove(scalingEfficiency(h100, 8, "none"), scalingEfficiency(l4, 8, "none"))
    assert.isAbove(scalingEfficiency(h100, 8, "none"), scalingEfficiency(h100, 16, "none"))
    assert.isAbove(scalingEfficiency(h100, 64, "none"), scalingEfficiency(h100, 512, "none"))
    assert.isAbove(scalingEfficiency(h100, 16, "none"), scalingEfficiency(h100, 16, "fsdp"))
    assert.isAbove(scalingEfficiency(h100, 1024, "fsdp"), 0.5)
  })

  it("decodes at memory bandwidth for small batches: a 7B in fp16 on one H100 at batch 1 gives ≈144 tokens/s", () => {
    const tokensPerSecond = decodeTokensPerSecond({
      spec: spec("H100"),
      precision: "fp16",
      parameters: 7e9,
      weightBytes: 14e9,
      kvCacheBytes: 0,
      batch: 1,
      tensorParallel: 1
    })
    assert.approximately(tokensPerSecond, (3350e9 * 0.6) / 14e9, 0.01)
  })

  it("becomes compute-bound at large batches", () => {
    const small = decodeTokensPerSecond({ spec: spec("H100"), precision: "bf16", parameters: 7e9, weightBytes: 14e9, kvCacheBytes: 0, batch: 1, tensorParallel: 1 })
    const huge = decodeTokensPerSecond({ spec: spec("H100"), precision: "bf16", parameters: 7e9, weightBytes: 14e9, kvCacheBytes: 0, batch: 100_000, tensorParallel: 1 })
    assert.isAbove(huge, small * 100)
    assert.approximately(huge, (989.4e12 * 0.5) / (2 * 7e9), 1)
  })

  it("ranks batch speed between compute and bandwidth ratios", () => {
    const speed = relativeBatchSpeed(spec("A10G"), spec("T4"))
    // A10G vs T4: compute 70/65, bandwidth 600/320; the geometric mean lies between.
    assert.approximately(speed, Math.sqrt((70 / 65) * (600 / 320)), 1e-12)
    assert.isAbove(speed, 70 / 65)
    assert.isBelow(speed, 600 / 320)
    assert.strictEqual(relativeBatchSpeed(spec("T4"), spec("T4")), 1)
    assert.strictEqual(relativeBatchSpeed(spec("Gaudi"), spec("T4")), 1000 / 320)
  })
})
