import { assert, describe, it } from "@effect/vitest"
import {
  activationBytes,
  activationBytesPerLayer,
  bytesPerValue,
  GB,
  GIB,
  kvCacheBytesPerToken,
  logitsBytes,
  recomputedLayerBytes,
  savedActivationBytesPerLayer,
  shardedTrainingState,
  trainingStateBytesPerParameter
} from "../src/Memory.ts"
import { modelShape } from "../src/ModelShape.ts"

const gpt3 = modelShape({ parameters: 175e9, layers: 96, hiddenSize: 12288, heads: 96, vocabSize: 50257 })

describe("Memory model", () => {
  it("holds 175B parameters in fp16 in 350 GB (decimal), 326 GiB", () => {
    const bytes = 175e9 * bytesPerValue("fp16")
    assert.strictEqual(bytes / GB, 350)
    assert.approximately(bytes / GIB, 325.96, 0.01)
  })

  it("keeps 16 bytes per parameter for mixed-precision AdamW before sharding (ZeRO paper §3.1)", () => {
    const state = trainingStateBytesPerParameter("adamw", 4096)
    assert.strictEqual(state.weights + state.gradients + state.optimizer, 16)
    assert.deepStrictEqual(state, { weights: 4, gradients: 4, optimizer: 8 })
    assert.strictEqual(trainingStateBytesPerParameter("sgd", 4096).optimizer, 4)
    assert.isBelow(trainingStateBytesPerParameter("adafactor", 4096).optimizer, 0.01)
  })

  it("divides weights, gradients and optimizer states by N under FSDP/ZeRO-3: 7.5B on 64 GPUs is 1.875 GB of state", () => {
    // ZeRO paper Figure 1: Ψ = 7.5B, N_d = 64, K = 12 → (2 + 2 + 12)·Ψ / N_d = 1.875 GB per device.
    const shape = modelShape({ parameters: 7.5e9, layers: 32, hiddenSize: 4096 })
    const state = shardedTrainingState({ shape, optimizer: "adamw", precision: "fp32", sharding: "fsdp", gpus: 64 })
    assert.approximately((state.weightsBytes + state.gradientsBytes + state.optimizerBytes) / GB, 1.875, 1e-9)
    // The forward pass holds two gathered units (one computing, one prefetched) on top: 2 × 12h² values.
    assert.strictEqual(state.forwardWeightBytes, 2 * 12 * 4096 * 4096 * 4)
    assert.strictEqual(state.gradientBucketsBytes, 0)
  })

  it("partitions optimizer states under ZeRO-1 and gradients too under ZeRO-2", () => {
    const shape = modelShape({ parameters: 1e9, layers: 24, hiddenSize: 2048 })
    const base = { shape, optimizer: "adamw" as const, precision: "bf16" as const, gpus: 8 }
    const none = shardedTrainingState({ ...base, gpus: 1, sharding: "none" })
    const z1 = shardedTrainingState({ ...base, sharding: "zero1" })
    const z2 = shardedTrainingState({ ...base, sharding: "zero2" })
    assert.strictEqual(none.optimizerBytes, 8e9)
    assert.strictEqual(z1.optimizerBytes, 1e9)
    assert.strictEqual(z1.weightsBytes, none.weightsBytes)
    assert.strictEqual(z2.gradientsBytes, 0.5e9)
    // fp32 master weights; autocast's bf16 copies of every matmul weight (the token embedding is looked up, not cast).
    assert.strictEqual(none.weightsBytes, 4e9)
    assert.strictEqual(none.forwardWeightBytes, 2 * (1e9 - shape.vocabSize * shape.hiddenSize))
    // DDP's all-reduce buckets: a second fp32 gradient copy on every rank unless gradients are partitioned.
    assert.strictEqual(none.gradientBucketsBytes, 0)
    assert.strictEqual(z1.gradientBucketsBytes, 4e9)
    assert.strictEqual(z2.gradientBucketsBytes, 0)
  })

  it("computes Korthikanti's activations: GPT-3 175B at s=2048, b=1 keeps 2048·12288·114 bytes per layer", () => {
    const perLayer = activationBytesPerLayer({
      sequenceLength: 2048,
      microBatchSize: 1,
      hiddenSize: 12288,
      heads: 96,
      fusedAttention: false,
      precision: "bf16"
    })
    // 34 + 5·a·s/h = 34 + 5·96·2048/12288 = 114
    assert.strictEqual(perLayer, 2048 * 12288 * 114)
    const fused = activationBytesPerLayer({
      sequenceLength: 2048,
      microBatchSize: 1,
      hiddenSize: 12288,
      heads: 96,
      fusedAttention: true,
      precision: "bf16"
    })
    assert.strictEqual(fused, 2048 * 12288 * 34)
  })

  it("counts what autocast training saves per layer: 38·s·b·h bytes in bf16 (fp32 residual stream and norms), 68 in fp32", () => {
    const options = { sequenceLength: 1024, microBatchSize: 8, hiddenSize: 768, heads: 12, fusedAttention: true }
    const sbh = 1024 * 8 * 768
    assert.strictEqual(savedActivationBytesPerLayer({ ...options, precision: "bf16" }), 38 * sbh)
    assert.strictEqual(savedActivationBytesPerLayer({ ...options, precision: "fp16" }), 38 * sbh)
    assert.strictEqual(savedActivationBytesPerLayer({ ...options, precision: "fp32" }), 68 * sbh)
    // A LoRA base stored in bf16 keeps a bf16 residual stream: Korthikanti's 34 without dropout masks, plus the fused output.
    assert.strictEqual(savedActivationBytesPerLayer({ ...options, precision: "bf16", residualBytes: 2 }), 34 * sbh)
  })

  it("keeps the a·s² scores of unfused attention: the fp32 softmax output and its bf16 copy for the AV product", () => {
    const options = { sequenceLength: 1024, microBatchSize: 8, hiddenSize: 768, heads: 12, fusedAttention: false }
    const sbh = 1024 * 8 * 768
    const scores = 12 * 1024 * 1024 * 8
    assert.strictEqual(savedActivationBytesPerLayer({ ...options, precision: "bf16" }), 36 * sbh + 6 * scores)
    assert.strictEqual(savedActivationBytesPerLayer({ ...options, precision: "fp32" }), 64 * sbh + 4 * scores)
  })

  it("keeps only layer inputs under activation checkpointing, and recomputes one layer at a time in backward", () => {
    const options = { sequenceLength: 2048, microBatchSize: 1, fusedAttention: true, precision: "bf16" as const }
    const sbh = 2048 * 12288
    const full = activationBytes(gpt3, { ...options, activationCheckpointing: false })
    const checkpointed = activationBytes(gpt3, { ...options, activationCheckpointing: true })
    // The output layers keep the final norm's fp32 input and the head's bf16 input: 6·s·b·h.
    assert.strictEqual(full, 96 * 38 * sbh + 6 * sbh)
    assert.strictEqual(checkpointed, 96 * 4 * sbh + 6 * sbh)
    assert.strictEqual(recomputedLayerBytes(gpt3, { ...options, activationCheckpointing: true }), 38 * sbh)
    assert.strictEqual(recomputedLayerBytes(gpt3, { ...options, activationCheckpointing: false }), 0)
  })

  it("doubles Korthikanti's per-layer count in fp32 (the serving working set)", () => {
    const options = { sequenceLength: 512, microBatchSize: 2, hiddenSize: 768, heads: 12, fusedAttention: true }
    assert.strictEqual(
      activationBytesPerLayer({ ...options, precision: "fp32" }),
      2 * activationBytesPerLayer({ ...options, precision: "bf16" })
    )
  })

  it("counts 12 bytes per logit for the loss: the saved fp32 log-softmax, the gradient into it and the one out of it", () => {
    assert.strictEqual(logitsBytes({ sequenceLength: 1024, microBatchSize: 16, vocabSize: 32768 }), 1024 * 16 * 32768 * 12)
  })

  it("sizes the KV cache at 2·layers·hidden values per token: 0.5 MiB per token for a 7B in fp16", () => {
    const llama7b = modelShape({ parameters: 7e9, layers: 32, hiddenSize: 4096, heads: 32 })
    assert.strictEqual(kvCacheBytesPerToken(llama7b, "fp16"), 2 * 32 * 4096 * 2)
    assert.strictEqual(kvCacheBytesPerToken(llama7b, "fp16"), 512 * 1024)
  })

  it("shrinks the KV cache by kvHeads/heads under grouped-query attention: 128 KiB per token for LLaMA 3 8B in bf16", () => {
    // LLaMA 3 8B: 32 layers, hidden 4096, 32 query heads, 8 key/value heads (Meta's model card).
    const llama3 = modelShape({ parameters: 8e9, layers: 32, hiddenSize: 4096, heads: 32, kvHeads: 8 })
    assert.strictEqual(kvCacheBytesPerToken(llama3, "bf16"), 2 * 32 * 1024 * 2)
    assert.strictEqual(kvCacheBytesPerToken(llama3, "bf16"), 128 * 1024)
    // Derived shapes and specs without kvHeads keep the conservative multi-head cache.
    assert.strictEqual(modelShape({ parameters: 8e9 }).kvHeads, modelShape({ parameters: 8e9 }).heads)
  })
})

describe("Model shape", () => {
  it("derives GPT-3's 96 layers from 175B parameters with the 128 aspect ratio", () => {
    const shape = modelShape({ parameters: 175e9, vocabSize: 50257 })
    assert.strictEqual(shape.layers, 96)
    assert.approximately(shape.hiddenSize, 12288, 12288 * 0.02)
    assert.isTrue(shape.derived)
  })

  it("derives about 32 layers of 4096 for 7B", () => {
    const shape = modelShape({ parameters: 7e9 })
    assert.approximately(shape.layers, 32, 2)
    assert.approximately(shape.hiddenSize, 4096, 4096 * 0.05)
    assert.strictEqual(shape.hiddenSize % 64, 0)
    assert.strictEqual(shape.hiddenSize % shape.heads, 0)
  })

  it("keeps the given architecture", () => {
    const shape = modelShape({ parameters: 7e9, layers: 32, hiddenSize: 4096, heads: 32, vocabSize: 32000 })
    assert.deepStrictEqual(shape, { parameters: 7e9, layers: 32, hiddenSize: 4096, heads: 32, kvHeads: 32, vocabSize: 32000, derived: false })
  })

  it("derives a plausible shape for tiny models", () => {
    const shape = modelShape({ parameters: 1e6 })
    assert.isAtLeast(shape.layers, 1)
    assert.isAtLeast(shape.hiddenSize, 64)
  })
})
