/**
 * The estimate facade the planner, CLI and runner use: one workload on `gpus` accelerators of one kind → memory per
 * GPU, whether it fits, and how long it takes. Composes Memory, Compute, ModelShape and Serving (the inference
 * layout); pure.
 */
import { type AcceleratorSpec, acceleratorByName, effectivePeakTflops } from "./Accelerator.ts"
import {
  defaultTrainingMfu,
  dequantizationEfficiency,
  forwardFlopsPerToken,
  recomputeFactor,
  relativeBatchSpeed,
  scalingEfficiency,
  tensorParallelEfficiency,
  type TrainedWeights,
  trainingFlopsPerToken,
  trainingHours,
  trainingTokensPerSecondPerGpu
} from "./Compute.ts"
import { NF4_DOUBLE_QUANT_BYTES_PER_PARAMETER, quantizedParameters, trainableParameters, trainedParameters } from "./FineTuning.ts"
import { activationBytes, GIB, logitsBytes, overheadBytes, recomputedLayerBytes, shardedTrainingState } from "./Memory.ts"
import { breakdown, type MemoryBreakdown } from "./MemoryBreakdown.ts"
import { modelShape } from "./ModelShape.ts"
import { meetsInferenceTarget, servingLayout, servingMeetsTarget } from "./Serving.ts"
import type { BatchWorkload, InferenceWorkload, Sharding, TrainingWorkload, Workload } from "./Workload.ts"

export type { MemoryBreakdown } from "./MemoryBreakdown.ts"
export {
  AVERAGE_CONTEXT_OCCUPANCY,
  concurrentRequests,
  meetsInferenceTarget,
  MIN_STREAM_TOKENS_PER_SECOND,
  STREAM_TOKENS_PER_SECOND
} from "./Serving.ts"

export interface PlacementEstimate {
  /** Canonical name. */
  readonly accelerator: string
  /** Total accelerators used. */
  readonly gpus: number
  readonly sharding: "none" | "zero1" | "zero2" | "fsdp"
  readonly memory: MemoryBreakdown
  /** perGpuGiB <= usable memory of one accelerator. */
  readonly fits: boolean
  /**
   * Training/batch: wall-clock hours of the whole job on these GPUs;
   * inference: hours per month to run (inference.hoursPerMonth).
   */
  readonly hours: number
  readonly tokensPerSecondPerGpu: number | null
  readonly mfu: number | null
  /** 1 for one GPU. */
  readonly scalingEfficiency: number
}

/** Calibration a caller may pass: an MFU measured by the trainer replaces the default for this accelerator. */
export interface EstimateOptions {
  readonly mfu?: number | undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Training

/**
 * Memory of a training job per GPU at its peak. A step passes through three moments, and the peak is the largest:
 * - the loss: stored weights, autocast's 16-bit copies (or FSDP's gathered units), optimizer states, every saved
 *   activation and the loss's buffers over the logits; no gradients yet (`zero_grad(set_to_none=True)`, PyTorch's
 *   default since 2.0, frees them after every step);
 * - with activation checkpointing, the recomputation of one layer during backward (the loss's buffers are gone);
 * - the optimizer step: weights, gradients and optimizer states (activations and copies are gone).
 * During backward memory moves from activations to gradients one layer at a time, so nothing in between is higher.
 * DDP's gradient buckets exist throughout. The breakdown reports the parts alive at the peak.
 */
export const trainingMemory = (workload: TrainingWorkload, gpus: number, sharding: Sharding): MemoryBreakdown => {
  const shape = modelShape(workload.model)
  const { precision, optimizer } = workload.model
  const trained = trainedParameters(shape, workload.model)
  const state = shardedTrainingState({ shape, optimizer, precision, sharding, gpus, trained })
  const { sequenceLength, microBatchSize, fusedAttention, activationCheckpointing } = workload.training
  const layout = { sequenceLength, microBatchSize, fusedAttention, activationCheckpointing, precision, residualBytes: trained.residualBytes }
  const activations = activationBytes(shape, layout)
  const recomputed = recomputedLayerBytes(shape, layout)
  const logits = logitsBytes({ sequenceLength, microBatchSize, vocabSize: shape.vocabSize })
  const held = state.weightsBytes + state.forwardWeightBytes + state.gradientBucketsBytes + state.optimizerBytes
  const atLoss = held + activations + logits
  const atRecompute = held + activations + recomputed
  const atStep = state.weightsBytes + state.gradientsBytes + state.gradientBucketsBytes + state.optimizerBytes
  const parts = atStep > atLoss && atStep >= atRecompute
    ? { weights: state.weightsBytes, gradients: state.gradientsBytes + state.gradientBucketsBytes, activations: 0, logits: 0 }
    : atRecompute > atLoss
    ? { weights: state.weightsBytes + state.forwardWeightBytes, gradients: state.gradientBucketsBytes, activations: activations + recomputed, logits: 0 }
    : { weights: state.weightsBytes + state.forwardWeightBytes, gradients: state.gradientBucketsBytes, activations, logits }
  const allocated = parts.weights + parts.gradients + state.optimizerBytes + parts.activations + parts.logits
  return breakdown({
    ...parts,
    optimizer: state.optimizerBytes,
    kvCache: 0,
    overhead: overheadBytes(allocated, gpus)
  }, gpus)
}

/** The spec's sharding, or when absent: none while one GPU's worth fits, else FSDP. */
export const chooseSharding = (workload: TrainingWorkload, spec: AcceleratorSpec, gpus: number): Sharding => {
  if (workload.model.sharding !== undefined) return workload.model.sharding
  if (gpus <= 1) return "none"
  return trainingMemory(workload, gpus, "none").perGpuGiB <= spec.memoryGiB ? "none" : "fsdp"
}

/** The default MFU for the spec's precision, less what QLoRA's dequantization takes (`dequantizationEfficiency`). */
const trainingMfu = (workload: TrainingWorkload, spec: AcceleratorSpec, base: number, trained: TrainedWeights): number => {
  if (workload.model.finetune !== "qlora") return base
  const shape = modelShape(workload.model)
  const { sequenceLength, microBatchSize, activationCheckpointing } = workload.training
  const flopsPerToken = trainingFlopsPerToken(shape, sequenceLength, trained)
  return base * dequantizationEfficiency({
    spec,
    precision: workload.model.precision,
    mfu: base,
    quantizedParameters: quantizedParameters(shape),
    bytesPerParameter: NF4_DOUBLE_QUANT_BYTES_PER_PARAMETER + 2,
    passes: activationCheckpointing ? 3 : 2,
    hardwareFlopsPerToken: flopsPerToken * recomputeFactor(activationCheckpointing, forwardFlopsPerToken(shape, sequenceLength, trained) / flopsPerToken),
    tokensPerMicroBatch: sequenceLength * microBatchSize
  })
}

const estimateTraining = (
  workload: TrainingWorkload,
  spec: AcceleratorSpec,
  gpus: number,
  options: EstimateOptions
): PlacementEstimate => {
  const shape = modelShape(workload.model)
  const sharding = chooseSharding(workload, spec, gpus)
  const memory = trainingMemory(workload, gpus, sharding)
  const { precision, finetune } = workload.model
  const { sequenceLength, tokens, activationCheckpointing } = workload.training
  const trained: TrainedWeights = { finetune, trainableParameters: trainableParameters(shape, workload.model) }
  const flopsPerToken = trainingFlopsPerToken(shape, sequenceLength, trained)
  const forwardShare = forwardFlopsPerToken(shape, sequenceLength, trained) / flopsPerToken
  // A measured MFU already includes whatever the method costs; the default is adjusted for QLoRA's dequantization.
  const mfu = options.mfu ?? trainingMfu(workload, spec, defaultTrainingMfu(spec, precision), trained)
  const efficiency = scalingEfficiency(spec, gpus, sharding)
  const known = effectivePeakTflops(spec, precision) !== null
  return {
    accelerator: spec.name,
    gpus,
    sharding,
    memory,
    fits: memory.perGpuGiB <= spec.memoryGiB,
    hours: trainingHours({
      flops: flopsPerToken * tokens,
      spec,
      precision,
      mfu,
      gpus,
      efficiency,
      activationCheckpointing,
      forwardShare
    }),
    tokensPerSecondPerGpu: known
      ? trainingTokensPerSecondPerGpu({ spec, precision, mfu, efficiency, flopsPerToken, activationCheckpointing, forwardShare })
      : null,
    mfu: known ? mfu : null,
    scalingEfficiency: efficiency
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Inference (the serving layout is in Serving.ts)

const estimateInference = (workload: InferenceWorkload, spec: AcceleratorSpec, gpus: number): PlacementEstimate => {
  const shape = modelShape(workload.model)
  const layout = servingLayout(workload, shape, spec, gpus)
  const peak = effectivePeakTflops(spec, workload.model.precision)
  // Capacity beyond the target is not generated: report what the service produces at its load.
  const produced = servingMeetsTarget(workload, spec, layout) ? workload.inference.tokensPerSecond : layout.tokensPerSecond
  return {
    accelerator: spec.name,
    gpus,
    sharding: "none",
    memory: layout.memory,
    fits: layout.memory.perGpuGiB <= spec.memoryGiB,
    hours: workload.inference.hoursPerMonth,
    tokensPerSecondPerGpu: produced / gpus,
    mfu: peak === null ? null : (2 * shape.parameters * produced) / (gpus * peak * 1e12),
    scalingEfficiency: tensorParallelEfficiency(spec, layout.tensorParallel)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Batch

/** Memory a batch job needs on each GPU: the spec's minimum, else all of the reference GPU's memory. */
export const batchMemoryGiB = (workload: BatchWorkload): number =>
  workload.batch.minGpuMemoryGiB ?? acceleratorByName(workload.batch.referenceGpu)?.memoryGiB ?? 0

const estimateBatch = (workload: BatchWorkload, spec: AcceleratorSpec, gpus: number): PlacementEstimate => {
  const reference = acceleratorByName(workload.batch.referenceGpu)
  const speed = reference === undefined ? 1 : relativeBatchSpeed(spec, reference)
  const required = batchMemoryGiB(workload)
  // A batch job's footprint is what the user measured: reported as its working set (activations).
  const memory = breakdown({
    weights: 0,
    gradients: 0,
    optimizer: 0,
    activations: required * GIB,
    logits: 0,
    kvCache: 0,
    overhead: 0
  }, gpus)
  return {
    accelerator: spec.name,
    gpus,
    sharding: "none",
    memory,
    fits: required <= spec.memoryGiB,
    hours: speed > 0 ? workload.batch.gpuHours / speed / gpus : Number.POSITIVE_INFINITY,
    tokensPerSecondPerGpu: null,
    mfu: null,
    scalingEfficiency: 1
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Facade

export const estimatePlacement = (
  workload: Workload,
  accelerator: AcceleratorSpec,
  gpus: number,
  options: EstimateOptions = {}
): PlacementEstimate => {
  const n = Math.max(1, Math.floor(gpus))
  switch (workload.kind) {
    case "training":
      return estimateTraining(workload, accelerator, n, options)
    case "inference":
      return estimateInference(workload, accelerator, n)
    case "batch":
      return estimateBatch(workload, accelerator, n)
  }
}

/** 1, 2, 4, 8, then multiples of 8 up to 1024: the GPU counts AWS instances can be combined into. */
export const GPU_COUNTS: ReadonlyArray<number> = [1, 2, 4, ...Array.from({ length: 128 }, (_, i) => (i + 1) * 8)]


export interface MinimumGpusOptions {
  /**
   * The workload names this accelerator in `resources.accelerators`: size a training job on it even when it is not
   * CUDA (Trainium with the Neuron SDK). Without it, non-CUDA accelerators cannot run training.
   */
  readonly allowNonCuda?: boolean | undefined
}

/**
 * Smallest GPU count (1,2,4,8, then multiples of 8 up to 1024) on which the workload fits and (inference) meets its
 * tokensPerSecond; null when none does or the accelerator cannot run it (non-CUDA for training unless
 * `allowNonCuda`, no peak figure for the precision, too small for batch).
 */
export const minimumGpus = (
  workload: Workload,
  accelerator: AcceleratorSpec,
  options: MinimumGpusOptions = {}
): number | null => {
  if (workload.kind === "training") {
    if (!accelerator.cuda && options.allowNonCuda !== true) return null
    if (effectivePeakTflops(accelerator, workload.model.precision) === null) return null
  }
  if (workload.kind === "batch") return estimateBatch(workload, accelerator, 1).fits ? 1 : null
  const ok = (gpus: number) =>
    workload.kind === "inference"
      ? meetsInferenceTarget(workload, accelerator, gpus)
      : trainingMemory(workload, gpus, chooseSharding(workload, accelerator, gpus)).perGpuGiB <= accelerator.memoryGiB
  // Memory per GPU falls and throughput rises with the count, so past the small counts a binary search suffices.
  for (const gpus of [1, 2, 4, 8]) if (ok(gpus)) return gpus
  const rest = GPU_COUNTS.slice(4)
  const last = rest.at(-1)
  if (last === undefined || !ok(last)) return null
  let lo = 0
  let hi = rest.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const gpus = rest[mid]
    if (gpus !== undefined && ok(gpus)) hi = mid
    else lo = mid + 1
  }
  return rest[lo] ?? null
}