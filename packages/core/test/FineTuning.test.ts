/**
 * LoRA and QLoRA against the figures their papers publish: Hu et al. 2021 (arXiv 2106.09685) for LoRA on GPT-3
 * 175B, Dettmers et al. 2023 (arXiv 2305.14314) for NF4 with double quantisation and the 65B model on one 48 GB GPU.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { acceleratorByName, type AcceleratorSpec } from "../src/Accelerator.ts"
import { forwardFlopsPerToken, trainingFlops, trainingFlopsPerToken } from "../src/Compute.ts"
import { estimatePlacement, minimumGpus, trainingMemory } from "../src/Estimate.ts"
import {
  baseWeightsBytes,
  DEFAULT_LORA_RANK,
  frozenBaseBytes,
  loraAdapterParameters,
  NF4_DOUBLE_QUANT_BYTES_PER_PARAMETER,
  resumableStateBytes,
  trainableParameters
} from "../src/FineTuning.ts"
import { GB, GIB, shardedTrainingState } from "../src/Memory.ts"
import { modelShape } from "../src/ModelShape.ts"
import type { TrainingWorkload } from "../src/Workload.ts"
import { decodeWorkloadFile, workloadsOf } from "../src/WorkloadFile.ts"

const training = (text: string): TrainingWorkload => {
  const [w] = workloadsOf(Effect.runSync(decodeWorkloadFile(text, "test.yaml")))
  if (w === undefined || w.kind !== "training") throw new Error("expected one training workload")
  return w
}
const example = (name: string): TrainingWorkload =>
  training(readFileSync(fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url)), "utf8"))
const spec = (name: string): AcceleratorSpec => {
  const found = acceleratorByName(name)
  if (found === undefined) throw new Error(`no spec ${name}`)
  return found
}

const gpt3 = modelShape({ parameters: 175e9, layers: 96, hiddenSize: 12288, heads: 96, vocabSize: 50257 })
// LLaMA 65B: 80 layers of 8192, 64 heads, vocabulary 32,000 (Touvron et al. 2023, Table 2).
const llama65 = "parameters: 65.2B, precision: bf16, layers: 80, hiddenSize: 8192, heads: 64, vocabSize: 32000"
const stateBytes = (workload: TrainingWorkload, gpus: number): number => {
  const memory = trainingMemory(workload, gpus, workload.model.sharding ?? "none")
  return (memory.perGpuGiB - memory.overheadGiB - memory.activationsGiB - memory.logitsGiB) * GIB * gpus
}

describe("LoRA (Hu et al. 2021)", () => {
  it("adapts GPT-3's W_q and W_v at rank 4 with 18.9M parameters: 37.7 MB in fp16, the paper's 350 GB → 35 MB checkpoint", () => {
    const adapters = loraAdapterParameters(gpt3, 4, ["q", "v"])
    // 96 layers × 2 matrices × r·(d + d) = 96 × 2 × 4 × 24,576.
    assert.strictEqual(adapters, 96 * 2 * 4 * 2 * 12288)
    assert.approximately((adapters * 2) / 1e6, 35, 35 * 0.1)
  })

  it("keeps GPT-3 175B's LoRA state at the paper's 350 GB: the frozen fp16 base plus a few hundred MB of adapters", () => {
    const lora = training(`name: g\nkind: training\nmodel: { parameters: 175B, precision: fp16, finetune: lora, loraRank: 4, loraTargets: [q, v], layers: 96, hiddenSize: 12288, heads: 96, vocabSize: 50257, sharding: fsdp }\ntraining: { tokens: 1B, sequenceLength: 2048 }`)
    const full = training(`name: g\nkind: training\nmodel: { parameters: 175B, precision: fp16, layers: 96, hiddenSize: 12288, heads: 96, vocabSize: 50257, sharding: fsdp }\ntraining: { tokens: 1B, sequenceLength: 2048 }`)
    // Summed over 64 GPUs, less each GPU's two gathered FSDP units and the activations.
    const gathered = 64 * 2 * 12 * 12288 * 12288 * 2
    const loraGB = (stateBytes(lora, 64) - gathered) / GB
    assert.approximately(loraGB, 350, 350 * 0.02)
    // The paper's full fine-tune used 1.2 TB; mixed-precision AdamW keeps more (12 bytes per parameter before the
    // gradients, 16 at the step), so the saving here is larger than the paper's 1.2 TB → 350 GB.
    const fullGB = (stateBytes(full, 64) - gathered) / GB
    assert.isAbove(fullGB, 1200)
    assert.isAbove(fullGB / loraGB, 1.2e3 / 350)
  })

  it("trains a 70B LoRA on four 80 GB GPUs, not the 1,278 GiB a full fine-tune needs", () => {
    const lora = example("llama-70b-lora.yaml")
    assert.strictEqual(minimumGpus(lora, spec("H100")), 4)
    const estimate = estimatePlacement(lora, spec("H100"), 4)
    assert.isTrue(estimate.fits)
    assert.isBelow(estimate.memory.totalGiB, 250)
    const full = training(readFileSync(fileURLToPath(new URL("../../../examples/llama-70b-lora.yaml", import.meta.url)), "utf8")
      .replace(/^\s*(finetune|loraRank):.*\n/gm, ""))
    assert.isAbove(estimatePlacement(full, spec("H100"), 16).memory.totalGiB, 1000)
  })

  it("trains only the adapters: gradients and AdamW states for them, the base frozen in the compute precision", () => {
    const shape = modelShape({ parameters: 7e9, layers: 32, hiddenSize: 4096, heads: 32, vocabSize: 32000 })
    const model = { finetune: "lora" as const, precision: "bf16" as const }
    const adapters = trainableParameters(shape, model)
    // Rank 16 on every linear layer of LLaMA 7B: 32 × 16 × (4·(4096 + 4096) + 3·(4096 + f)), f ≈ 11,008.
    assert.approximately(adapters / 1e6, 40, 1)
    assert.strictEqual(DEFAULT_LORA_RANK, 16)
    assert.strictEqual(frozenBaseBytes(shape, model), 7e9 * 2)
    const state = shardedTrainingState({
      shape,
      optimizer: "adamw",
      precision: "bf16",
      sharding: "none",
      gpus: 1,
      trained: { trainable: adapters, frozenBytes: 14e9, residualBytes: 2, trainableBytes: 4 }
    })
    assert.strictEqual(state.weightsBytes, 14e9 + 4 * adapters)
    assert.strictEqual(state.gradientsBytes, 4 * adapters)
    assert.strictEqual(state.optimizerBytes, 8 * adapters)
    assert.strictEqual(trainableParameters(shape, { ...model, trainableFraction: 0.01 }), 7e7)
  })

  it("checkpoints only what it trains: adapters and their optimizer states, and loads the 16-bit base each attempt", () => {
    const shape = modelShape({ parameters: 7e9, layers: 32, hiddenSize: 4096, heads: 32, vocabSize: 32000 })
    const adapters = trainableParameters(shape, { finetune: "lora", precision: "bf16" })
    assert.strictEqual(resumableStateBytes(shape, { finetune: "lora", precision: "bf16", optimizer: "adamw" }), 12 * adapters)
    assert.strictEqual(resumableStateBytes(shape, { finetune: "full", precision: "bf16", optimizer: "adamw" }), 12 * 7e9)
    assert.strictEqual(baseWeightsBytes(shape), 14e9)
  })

  it("does the forward pass and the activation gradients through the frozen weights, but no weight gradients: 4·N + 6·A", () => {
    const shape = modelShape({ parameters: 7e9, layers: 32, hiddenSize: 4096, heads: 32, vocabSize: 32000 })
    const attention = 6 * 32 * 2048 * 4096
    const adapters = 40e6
    assert.strictEqual(trainingFlopsPerToken(shape, 2048, { finetune: "lora", trainableParameters: adapters }), 4 * 7e9 + 6 * adapters + attention)
    assert.strictEqual(trainingFlopsPerToken(shape, 2048), 6 * 7e9 + attention)
    // Checkpointing recomputes the forward pass: 2·N + 2·L·s·h (+ 2·A).
    assert.strictEqual(forwardFlopsPerToken(shape, 2048, { finetune: "lora", trainableParameters: adapters }), 2 * 7e9 + attention / 3 + 2 * adapters)
    const lora = example("llama-7b-lora.yaml")
    const full = training(readFileSync(fileURLToPath(new URL("../../../examples/llama-7b-lora.yaml", import.meta.url)), "utf8")
      .replace(/^\s*(finetune|loraRank):.*\n/gm, ""))
    assert.approximately(trainingFlops(lora) / trainingFlops(full), 4 / 6, 0.02)
    // Faster per token than the full fine-tune on the same GPU, by less than 6/4 (checkpointing recomputes 2·N in both).
    const speedup = (estimatePlacement(lora, spec("H100"), 1).tokensPerSecondPerGpu ?? 0) /
      (estimatePlacement(full, spec("H100"), 8).tokensPerSecondPerGpu ?? 1)
    assert.isAbove(speedup, 1.2)
  })
})

describe("QLoRA (Dettmers et al. 2023)", () => {
  it("stores NF4 with double quantisation at 4.127 bits per parameter (§3: 0.5 → 0.127 bit of constants)", () => {
    assert.approximately((NF4_DOUBLE_QUANT_BYTES_PER_PARAMETER * 8 - 4), 0.127, 0.0005)
    assert.approximately(8 / 64 + 32 / (64 * 256), 0.127, 0.0005)
  })

  it("fine-tunes LLaMA 65B on one 48 GB GPU, where a 16-bit full fine-tune needs more than 780 GB", () => {
    // The paper's memory figure: batch 1, LoRA weights 0.2% of the model, gradient checkpointing.
    const qlora = training(`name: q\nkind: training\nmodel: { ${llama65}, finetune: qlora, trainableFraction: 0.002 }\ntraining: { tokens: 1B, sequenceLength: 512, microBatchSize: 1, activationCheckpointing: true }`)
    const l40s = spec("L40S")
    assert.strictEqual(minimumGpus(qlora, l40s), 1)
    assert.isBelow(estimatePlacement(qlora, l40s, 1).memory.perGpuGiB, 48e9 / GIB)
    // With Guanaco's rank-64 adapters on every linear layer the tensors still stay under 48 GB (before allocator slack).
    const guanaco = training(`name: q\nkind: training\nmodel: { ${llama65}, finetune: qlora, loraRank: 64 }\ntraining: { tokens: 1B, sequenceLength: 512, microBatchSize: 1, activationCheckpointing: true }`)
    const memory = estimatePlacement(guanaco, l40s, 1).memory
    assert.isBelow((memory.perGpuGiB - memory.overheadGiB) * GIB, 48e9)
    const full = training(`name: f\nkind: training\nmodel: { ${llama65}, sharding: fsdp }\ntraining: { tokens: 1B, sequenceLength: 512, microBatchSize: 1, activationCheckpointing: true }`)
    assert.isAbove(stateBytes(full, 32) / GB, 780)
  })

  it("holds a 70B base in about 39 GB: NF4 linear layers plus the 16-bit embedding and head", () => {
    const shape = modelShape({ parameters: 70e9, layers: 80, hiddenSize: 8192, heads: 64, kvHeads: 8, vocabSize: 128256 })
    const embeddings = 2 * 128256 * 8192
    assert.approximately(frozenBaseBytes(shape, { finetune: "qlora", precision: "bf16" }), (70e9 - embeddings) * NF4_DOUBLE_QUANT_BYTES_PER_PARAMETER + embeddings * 2, 1)
    assert.approximately(frozenBaseBytes(shape, { finetune: "qlora", precision: "bf16" }) / GB, 39.2, 0.1)
    assert.strictEqual(minimumGpus(example("llama-70b-qlora.yaml"), spec("H100")), 1)
  })

  it("pays for dequantizing the 4-bit base before each matmul: a lower MFU than LoRA on the same GPU, more so on short micro-batches", () => {
    const qlora = example("llama-7b-qlora.yaml")
    const lora = example("llama-7b-lora.yaml")
    const h100 = spec("H100")
    const q = estimatePlacement(qlora, h100, 1).mfu ?? 0
    const l = estimatePlacement(lora, h100, 1).mfu ?? 0
    assert.strictEqual(l, 0.4)
    assert.isBelow(q, l)
    assert.isAbove(q, 0.25)
    const short = training(readFileSync(fileURLToPath(new URL("../../../examples/llama-7b-qlora.yaml", import.meta.url)), "utf8")
      .replace("microBatchSize: 4", "microBatchSize: 1").replace("sequenceLength: 2048", "sequenceLength: 512"))
    assert.isBelow(estimatePlacement(short, h100, 1).mfu ?? 1, q)
  })
})
