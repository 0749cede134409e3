/**
 * What LoRA and QLoRA train and keep frozen. Pure; sources in docs/estimates.md.
 *
 * LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", arXiv 2106.09685) freezes the
 * pretrained weights and trains, beside each adapted d_in × d_out matrix, a pair of rank-r matrices: r·(d_in + d_out)
 * parameters. Only they have gradients and optimizer states. QLoRA (Dettmers et al. 2023, "QLoRA: Efficient
 * Finetuning of Quantized LLMs", arXiv 2305.14314) stores the frozen base in 4-bit NormalFloat with double
 * quantisation and dequantizes it to the 16-bit compute dtype for every matmul.
 */
import { checkpointBytes } from "./Checkpointing.ts"
import { bytesPerValue, type TrainedParameters } from "./Memory.ts"
import type { ModelShape } from "./ModelShape.ts"
import type { FineTune, LoraTarget, Optimizer, Precision } from "./Workload.ts"

/** Adapter rank when the spec gives none: within the 1–64 the LoRA paper explores, a common default of PEFT recipes. */
export const DEFAULT_LORA_RANK = 16

/**
 * Bytes per parameter of an NF4 weight with double quantisation: 4 bits, plus the quantisation constants. QLoRA §3:
 * one fp32 constant per block of 64 weights costs 32/64 = 0.5 bit per parameter; double quantisation stores them in
 * 8 bits with one fp32 constant per 256 of them, 8/64 + 32/(64·256) = 0.127 bit. So (4 + 0.127) / 8 bytes.
 */
export const NF4_DOUBLE_QUANT_BYTES_PER_PARAMETER = (4 + 8 / 64 + 32 / (64 * 256)) / 8

/** The model's parts a fine-tune can treat differently: embedding and output head (never quantized) and the rest. */
const embeddingParameters = (shape: ModelShape): number =>
  // An untied head as large as the token embedding; never more than half the model (tiny shapes).
  Math.min(2 * shape.vocabSize * shape.hiddenSize, shape.parameters / 2)

/** Parameters QLoRA stores in NF4: every linear layer, not the embedding and output head. */
export const quantizedParameters = (shape: ModelShape): number => shape.parameters - embeddingParameters(shape)

/**
 * Adapter parameters per layer on the named targets. Attention: q and o are h × h, k and v h × h·kvHeads/heads.
 * MLP: gate and up are h × f, down f × h, with f from the parameters the layer has beyond attention (a gated MLP
 * has 3·h·f of them; a GPT MLP of 4h with two matrices gives nearly the same adapter count).
 */
export const loraAdapterParameters = (shape: ModelShape, rank: number, targets: ReadonlyArray<LoraTarget>): number => {
  const h = shape.hiddenSize
  const kv = (h * shape.kvHeads) / shape.heads
  const attention = 2 * h * h + 2 * h * kv
  const perLayer = Math.max(0, (shape.parameters - embeddingParameters(shape)) / Math.max(1, shape.layers))
  const f = Math.max(h, (perLayer - attention) / (3 * h))
  const sizes: Readonly<Record<LoraTarget, number>> = { q: h + h, k: h + kv, v: h + kv, o: h + h, gate: h + f, up: h + f, down: f + h }
  let perLayerAdapters = 0
  for (const target of new Set(targets)) perLayerAdapters += rank * sizes[target]
  return shape.layers * perLayerAdapters
}

export const ALL_LINEAR_TARGETS: ReadonlyArray<LoraTarget> = ["q", "k", "v", "o", "gate", "up", "down"]

export interface FineTuneSpec {
  readonly finetune: FineTune
  readonly precision: Precision
  readonly loraRank?: number | undefined
  readonly loraTargets?: ReadonlyArray<LoraTarget> | undefined
  readonly trainableFraction?: number | undefined
}

/** Parameters the optimizer trains under this fine-tune (the adapters for LoRA/QLoRA). */
export const trainableParameters = (shape: ModelShape, model: FineTuneSpec): number => {
  if (model.finetune === "full") return shape.parameters
  if (model.trainableFraction !== undefined) return shape.parameters * model.trainableFraction
  return loraAdapterParameters(shape, model.loraRank ?? DEFAULT_LORA_RANK, model.loraTargets ?? ALL_LINEAR_TARGETS)
}

/**
 * Bytes of the frozen base: LoRA keeps it in the compute precision (2 bytes in bf16/fp16, 4 in fp32); QLoRA keeps
 * every linear layer in NF4 with double quantisation and the embedding and output head in 16 bits (bitsandbytes
 * does not quantize them).
 */
export const frozenBaseBytes = (shape: ModelShape, model: FineTuneSpec): number => {
  switch (model.finetune) {
    case "full":
      return 0
    case "lora":
      return shape.parameters * bytesPerValue(model.precision)
    case "qlora": {
      return quantizedParameters(shape) * NF4_DOUBLE_QUANT_BYTES_PER_PARAMETER + embeddingParameters(shape) * 2
    }
  }
}

/**
 * What a training job trains and keeps frozen, for the memory model. LoRA adapters are trained like any weights
 * under autocast (fp32, with 16-bit copies for the matmuls, as PEFT creates them); QLoRA's reference implementation
 * casts the adapters to the 16-bit compute dtype (`qlora.py`: `module.to(torch.bfloat16)` for every LoRA layer),
 * so their weights and gradients take 2 bytes. AdamW's moments stay fp32 in both (QLoRA's paged 32-bit AdamW).
 */
export const trainedParameters = (shape: ModelShape, model: FineTuneSpec): TrainedParameters =>
  model.finetune === "full"
    ? { trainable: shape.parameters, frozenBytes: 0, residualBytes: 4, trainableBytes: 4 }
    : {
      trainable: trainableParameters(shape, model),
      frozenBytes: frozenBaseBytes(shape, model),
      residualBytes: model.finetune === "qlora" ? 2 : bytesPerValue(model.precision),
      trainableBytes: model.finetune === "qlora" ? 2 : 4
    }

/**
 * Bytes of a resumable checkpoint: what is trained, with its optimizer states (core `checkpointBytes`: 12 bytes per
 * parameter with AdamW). A frozen base is not saved: each attempt loads it again (`baseWeightsBytes`). QLoRA's 16-bit
 * adapters save 2 bytes each instead of 4.
 */
export const resumableStateBytes = (shape: ModelShape, model: FineTuneSpec & { readonly optimizer: Optimizer }): number => {
  const trainable = trainableParameters(shape, model)
  const bytes = checkpointBytes(trainable, model.optimizer)
  return model.finetune === "qlora" ? bytes - 2 * trainable : bytes
}

/**
 * Bytes of pretrained weights an attempt reads before it trains: a fine-tune starts from a published 16-bit
 * checkpoint (QLoRA quantizes it while loading), 2 bytes per parameter. A full run that restores its own checkpoint
 * reads that instead (`resumableStateBytes`).
 */
export const baseWeightsBytes = (shape: ModelShape): number => shape.parameters * 2
