/**
 * How long a workload takes: FLOPs, model FLOPs utilisation (MFU), multi-GPU scaling and memory-bandwidth-bound
 * decoding. Pure functions; every constant is documented with its source in docs/estimates.md.
 */
import { type AcceleratorSpec, effectivePeakTflops, effectivePrecision } from "./Accelerator.ts"
import { type FineTuneSpec, trainableParameters } from "./FineTuning.ts"
import { type ModelShape, type ModelSpec, modelShape } from "./ModelShape.ts"
import type { FineTune, Precision, Sharding } from "./Workload.ts"

/** What a training job's backward pass computes: gradients for every weight, or (LoRA, QLoRA) for the adapters only. */
export interface TrainedWeights {
  readonly finetune: FineTune
  /** Parameters with gradients: all of them for a full fine-tune, the adapters otherwise. */
  readonly trainableParameters: number
}

const FULL: TrainedWeights = { finetune: "full", trainableParameters: Number.NaN }

/**
 * Training FLOPs per token. Full fine-tune: 6·N for the dense layers (forward 2·N, backward 4·N: 2·N for the
 * activation gradients and 2·N for the weight gradients; Kaplan et al. 2020 §2.1) plus causal self-attention
 * 6·L·s·h (the QKᵀ and AV products, 2·2·s·h per token and layer forward, halved by the causal mask, ×3 for forward +
 * backward). The reference bench counts 6·L·B·T²·D per step, the same figure per token. LoRA/QLoRA: the frozen
 * weights still carry the forward pass (2·N) and the activation gradients (2·N), but no weight gradients, so 4·N,
 * plus 6·A for the A adapter parameters and the same attention term (Hu et al. 2021 §4.2: LoRA spares the
 * gradients of the frozen weights, not the backward pass through them).
 */
export const trainingFlopsPerToken = (shape: ModelShape, sequenceLength: number, trained: TrainedWeights = FULL): number => {
  const attention = 6 * shape.layers * sequenceLength * shape.hiddenSize
  return trained.finetune === "full"
    ? 6 * shape.parameters + attention
    : 4 * shape.parameters + 6 * trained.trainableParameters + attention
}

/** Forward FLOPs per token: 2·N + 2·L·s·h (+ 2·A for adapters): what activation checkpointing computes again. */
export const forwardFlopsPerToken = (shape: ModelShape, sequenceLength: number, trained: TrainedWeights = FULL): number =>
  2 * shape.parameters + 2 * shape.layers * sequenceLength * shape.hiddenSize +
  (trained.finetune === "full" ? 0 : 2 * trained.trainableParameters)

/** Model FLOPs of a training job: per token × tokens. GPT-3 175B over 300B tokens: 6·N·D ≈ 3.15e23. */
export const trainingFlops = (workload: {
  readonly model: ModelSpec & FineTuneSpec
  readonly training: { readonly sequenceLength: number; readonly tokens: number }
}): number => {
  const shape = modelShape(workload.model)
  const trained: TrainedWeights = { finetune: workload.model.finetune, trainableParameters: trainableParameters(shape, workload.model) }
  return trainingFlopsPerToken(shape, workload.training.sequenceLength, trained) * workload.training.tokens
}

/**
 * Full activation checkpointing recomputes the forward pass during backward: hardware does model FLOPs × (1 + the
 * forward's share of them). A full fine-tune: 8·N per token for the 6·N the model needs, ×4/3 (Korthikanti et al.
 * 2022 §5; Chowdhery et al. 2022, PaLM, App. B); LoRA, whose backward is lighter, about ×1.5.
 */
export const recomputeFactor = (activationCheckpointing: boolean, forwardShare = 1 / 3): number =>
  activationCheckpointing ? 1 + forwardShare : 1

const DATACENTER = new Set(["A100-40GB", "A100-80GB", "H100", "H200", "B200", "B300"])
const NEURON = new Set(["Trainium", "Trainium2", "Inferentia", "Inferentia2"])

/**
 * Default MFU (model FLOPs ÷ peak of the precision that runs) of a training job. Hopper/Ampere/Blackwell SXM parts in
 * bf16: 0.40 (reference bench: 35.7% for a 219M GPT in eager bf16 on an H100, 42.3% with torch.compile; Llama 3 405B:
 * 38–43% on H100, Dubey et al. 2024 Table 4; Megatron-LM 175B: 52% on A100, Narayanan et al. 2021). TF32: 0.33
 * (bench 32.7%); fp32 on CUDA cores: 0.70 (bench 79%); fp8 against the fp8 peak: 0.28 (fp8 gives ≈1.4× over bf16
 * end to end rather than 2×). PCIe/GDDR parts (T4, A10G, L4, L40S, RTX PRO) and V100: 0.30 in 16-bit.
 */
export const defaultTrainingMfu = (spec: AcceleratorSpec, precision: Precision): number => {
  const runs = effectivePrecision(spec, precision)
  const datacenter = DATACENTER.has(spec.name)
  switch (runs) {
    case "fp32":
      return datacenter ? 0.7 : 0.6
    case "tf32":
      return datacenter ? 0.33 : 0.3
    case "fp8":
      return datacenter ? 0.28 : 0.22
    case "bf16":
    case "fp16":
      return datacenter ? 0.4 : NEURON.has(spec.name) ? 0.35 : 0.3
  }
}

/**
 * Fraction of linear speed-up kept on `gpus` accelerators. Inside one instance NVLink loses ≈5% to gradient
 * all-reduce, PCIe ≈15%; across instances (EFA on p4d/p5/p6, 400–3200 Gbps) another 8% plus 3% per doubling,
 * instances with 25–100 Gbps networking (g5, g6, g6e) 20% plus 5% per doubling. FSDP moves 1.5× the data of DDP
 * (Zhao et al. 2023, "PyTorch FSDP" §3.3): a further 3% inside an instance and 7% across.
 */
export const scalingEfficiency = (spec: AcceleratorSpec, gpus: number, sharding: Sharding): number => {
  if (gpus <= 1) return 1
  const nodes = Math.ceil(gpus / spec.maxPerInstance)
  const fast = spec.interconnect.kind !== "pcie"
  const intra = fast ? 0.95 : 0.85
  const inter = nodes <= 1
    ? 1
    : fast
    ? 0.92 * 0.97 ** Math.log2(nodes)
    : 0.8 * 0.95 ** Math.log2(nodes)
  const fsdp = sharding === "fsdp" ? (nodes > 1 ? 0.93 : 0.97) : 1
  return intra * inter * fsdp
}

/** Training throughput of one GPU in tokens per second, already net of scaling losses. */
export const trainingTokensPerSecondPerGpu = (options: {
  readonly spec: AcceleratorSpec
  readonly precision: Precision
  readonly mfu: number
  readonly efficiency: number
  readonly flopsPerToken: number
  readonly activationCheckpointing: boolean
  /** The forward pass's share of the model FLOPs (recomputed under checkpointing); default a full fine-tune's 1/3. */
  readonly forwardShare?: number | undefined
}): number => {
  const peak = effectivePeakTflops(options.spec, options.precision)
  if (peak === null) return 0
  return (peak * 1e12 * options.mfu * options.efficiency) /
    (options.flopsPerToken * recomputeFactor(options.activationCheckpointing, options.forwardShare))
}

/** Wall-clock hours: FLOPs ÷ (peak × MFU × GPUs × scaling efficiency). Infinite where no peak is published. */
export const trainingHours = (options: {
  readonly flops: number
  readonly spec: AcceleratorSpec
  readonly precision: Precision
  readonly mfu: number
  readonly gpus: number
  readonly efficiency: number
  readonly activationCheckpointing: boolean
  readonly forwardShare?: number | undefined
}): number => {
  const peak = effectivePeakTflops(options.spec, options.precision)
  if (peak === null || peak <= 0) return Number.POSITIVE_INFINITY
  const flopsPerSecond = peak * 1e12 * options.mfu * options.gpus * options.efficiency
  return (options.flops * recomputeFactor(options.activationCheckpointing, options.forwardShare)) / flopsPerSecond / 3600
}

/**
 * QLoRA dequantizes every 4-bit weight to the 16-bit compute dtype before each matmul that uses it (Dettmers et al.
 * 2023 §3): once in the forward pass, once for the activation gradients, once more when a checkpointed layer is
 * recomputed. Each pass reads the NF4 weights and writes 16-bit ones, a memory-bound kernel. The share of time
 * left to the matmuls, for a micro-batch of `tokensPerMicroBatch`, is what the MFU is multiplied by.
 */
export const dequantizationEfficiency = (options: {
  readonly spec: AcceleratorSpec
  readonly precision: Precision
  readonly mfu: number
  readonly quantizedParameters: number
  /** Bytes moved per quantized parameter and pass: the NF4 read plus the 16-bit write. */
  readonly bytesPerParameter: number
  readonly passes: number
  readonly hardwareFlopsPerToken: number
  readonly tokensPerMicroBatch: number
}): number => {
  const peak = effectivePeakTflops(options.spec, options.precision)
  if (peak === null || !(options.quantizedParameters > 0)) return 1
  const matmulSeconds = (options.hardwareFlopsPerToken * options.tokensPerMicroBatch) / (peak * 1e12 * options.mfu)
  const dequantSeconds = (options.passes * options.quantizedParameters * options.bytesPerParameter) /
    (options.spec.memoryBandwidthGBps * 1e9 * DECODE_BANDWIDTH_EFFICIENCY)
  return matmulSeconds / (matmulSeconds + dequantSeconds)
}

/**
 * Share of peak memory bandwidth a serving engine reaches while decoding (vLLM/TensorRT-LLM reach 50–70% on
 * H100/A100 at moderate batch sizes).
 */
export const DECODE_BANDWIDTH_EFFICIENCY = 0.6
/** Share of peak tensor FLOP/s a serving engine reaches when batches are large enough to be compute-bound. */
export const DECODE_COMPUTE_EFFICIENCY = 0.5
/** Tensor parallelism across GPUs costs an all-reduce per layer: ≈10% over NVLink, ≈25% over PCIe. */
export const tensorParallelEfficiency = (spec: AcceleratorSpec, degree: number): number =>
  degree <= 1 ? 1 : spec.interconnect.kind === "pcie" ? 0.75 : 0.9

/**
 * Decode throughput of one model replica split over `tensorParallel` GPUs serving `batch` sequences at once. Each
 * decode step reads every weight and the batch's KV cache once (memory-bound), and does 2·N FLOPs per sequence
 * (compute-bound at large batches); the step takes the longer of the two (the roofline model, Williams et al. 2009).
 */
export const decodeTokensPerSecond = (options: {
  readonly spec: AcceleratorSpec
  readonly precision: Precision
  readonly parameters: number
  readonly weightBytes: number
  readonly kvCacheBytes: number
  readonly batch: number
  readonly tensorParallel: number
}): number => {
  const { spec, tensorParallel: tp } = options
  const efficiency = tensorParallelEfficiency(spec, tp)
  const bandwidth = spec.memoryBandwidthGBps * 1e9 * DECODE_BANDWIDTH_EFFICIENCY * tp * efficiency
  const memorySeconds = (options.weightBytes + options.kvCacheBytes) / bandwidth
  const peak = effectivePeakTflops(spec, options.precision)
  const computeSeconds = peak === null
    ? 0
    : (2 * options.parameters * options.batch) / (peak * 1e12 * DECODE_COMPUTE_EFFICIENCY * tp * efficiency)
  const stepSeconds = Math.max(memorySeconds, computeSeconds)
  return stepSeconds > 0 ? options.batch / stepSeconds : 0
}

/**
 * Relative speed of a batch job on `spec` versus `reference`: the geometric mean of the 16-bit compute ratio and the
 * memory-bandwidth ratio, because batch jobs (embedding, preprocessing, offline inference) sit between the two
 * bounds. Where either accelerator publishes no compute figure, bandwidth alone.
 */
export const relativeBatchSpeed = (spec: AcceleratorSpec, reference: AcceleratorSpec): number => {
  const bandwidth = spec.memoryBandwidthGBps / reference.memoryBandwidthGBps
  const a = effectivePeakTflops(spec, "bf16")
  const b = effectivePeakTflops(reference, "bf16")
  return a === null || b === null || b <= 0 ? bandwidth : Math.sqrt((a / b) * bandwidth)
}
