/**
 * Serving (inference) layout: how `gpus` accelerators of one kind serve a model (replicas of `tensorParallel` GPUs,
 * requests in flight, memory per GPU, tokens per second) and whether that meets the workload's target. Pure; the
 * estimate facade (Estimate.ts) turns a layout into a placement estimate.
 */
import type { AcceleratorSpec } from "./Accelerator.ts"
import { decodeTokensPerSecond } from "./Compute.ts"
import { activationBytesPerLayer, bytesPerValue, kvCacheBytesPerToken, overheadBytes } from "./Memory.ts"
import { breakdown, type MemoryBreakdown } from "./MemoryBreakdown.ts"
import { type ModelShape, modelShape } from "./ModelShape.ts"
import type { InferenceWorkload } from "./Workload.ts"

/** Tokens per second a stream is first assumed to get: sets the starting number of concurrent requests. */
export const STREAM_TOKENS_PER_SECOND = 30
/** Slowest generation a user of an interactive service accepts (faster than reading speed, ≈5 tokens/s). */
export const MIN_STREAM_TOKENS_PER_SECOND = 10
/** On average a request is half-way through its context, so holds half of `sequenceLength` in the KV cache. */
export const AVERAGE_CONTEXT_OCCUPANCY = 0.5

export interface ServingLayout {
  readonly tensorParallel: number
  readonly replicas: number
  /** Requests in flight across all replicas. */
  readonly concurrentRequests: number
  readonly memory: MemoryBreakdown
  /** Tokens per second all replicas together generate. */
  readonly tokensPerSecond: number
  /** Tokens per second each request sees. */
  readonly streamTokensPerSecond: number
}

const servingMemory = (
  workload: InferenceWorkload,
  shape: ModelShape,
  gpus: number,
  tensorParallel: number,
  perReplica: number
): MemoryBreakdown => {
  const { precision } = workload.model
  const tokens = perReplica * workload.inference.sequenceLength * AVERAGE_CONTEXT_OCCUPANCY
  const weights = (shape.parameters * bytesPerValue(precision)) / tensorParallel
  const kvCache = (tokens * kvCacheBytesPerToken(shape, precision)) / tensorParallel
  // Inference keeps no activations across layers: the prefill of one sequence through one layer is the working set.
  const activations = activationBytesPerLayer({
    sequenceLength: workload.inference.sequenceLength,
    microBatchSize: 1,
    hiddenSize: shape.hiddenSize,
    heads: shape.heads,
    fusedAttention: true,
    precision
  }) / tensorParallel
  const logits = perReplica * shape.vocabSize * 4
  const allocated = weights + kvCache + activations + logits
  return breakdown({
    weights,
    gradients: 0,
    optimizer: 0,
    activations,
    logits,
    kvCache,
    overhead: overheadBytes(allocated, tensorParallel)
  }, gpus)
}

/**
 * Serving with replicas of `tensorParallel` GPUs. With `concurrentRequests` in the spec the load is that many
 * requests; without it, the requests in flight follow from the target: a service generating T tokens/s whose
 * streams each get r tokens/s holds T / r requests (Little's law), and r depends on the batch, so a few fixed-point
 * rounds settle both.
 */
export const servingWith = (
  workload: InferenceWorkload,
  shape: ModelShape,
  spec: AcceleratorSpec,
  gpus: number,
  tensorParallel: number
): ServingLayout => {
  const { precision } = workload.model
  const replicas = Math.max(1, Math.floor(gpus / tensorParallel))
  const target = workload.inference.tokensPerSecond
  const perReplicaFor = (requests: number) => Math.ceil(requests / Math.min(replicas, requests))
  const streamRate = (perReplica: number) =>
    decodeTokensPerSecond({
      spec,
      precision,
      parameters: shape.parameters,
      weightBytes: shape.parameters * bytesPerValue(precision),
      kvCacheBytes: perReplica * workload.inference.sequenceLength * AVERAGE_CONTEXT_OCCUPANCY *
        kvCacheBytesPerToken(shape, precision),
      batch: perReplica,
      tensorParallel
    }) / perReplica
  let requests = workload.inference.concurrentRequests ?? Math.max(1, Math.ceil(target / STREAM_TOKENS_PER_SECOND))
  if (workload.inference.concurrentRequests === undefined) {
    for (let round = 0; round < 6; round++) {
      const rate = streamRate(perReplicaFor(requests))
      if (rate <= 0) break
      const next = Math.max(1, Math.ceil(target / rate))
      if (next === requests) break
      requests = next
    }
  }
  const perReplica = perReplicaFor(requests)
  const rate = streamRate(perReplica)
  return {
    tensorParallel,
    replicas,
    concurrentRequests: requests,
    memory: servingMemory(workload, shape, gpus, tensorParallel, perReplica),
    tokensPerSecond: rate * requests,
    streamTokensPerSecond: rate
  }
}

/** Whether a layout carries the workload: it fits, and (inference) generates the target at an acceptable speed. */
export const servingMeetsTarget = (workload: InferenceWorkload, spec: AcceleratorSpec, layout: ServingLayout): boolean =>
  layout.memory.perGpuGiB <= spec.memoryGiB &&
  layout.tokensPerSecond >= workload.inference.tokensPerSecond * (1 - 1e-9) &&
  layout.streamTokensPerSecond >= Math.min(MIN_STREAM_TOKENS_PER_SECOND, workload.inference.tokensPerSecond)

/**
 * How `gpus` accelerators serve the model: replicas of `tensorParallel` GPUs each (a power of two,
 * within one instance). A layout that meets the target beats one that does not; then the faster one wins.
 */
export const servingLayout = (
  workload: InferenceWorkload,
  shape: ModelShape,
  spec: AcceleratorSpec,
  gpus: number
): ServingLayout => {
  let best: ServingLayout | undefined
  const rank = (layout: ServingLayout) =>
    (servingMeetsTarget(workload, spec, layout) ? 2 : layout.memory.perGpuGiB <= spec.memoryGiB ? 1 : 0)
  // GPUs beyond a whole number of replicas idle; keeping the search monotone in `gpus` is worth that.
  for (let tp = 1; tp <= gpus && tp <= spec.maxPerInstance; tp *= 2) {
    const layout = servingWith(workload, shape, spec, gpus, tp)
    if (
      best === undefined || rank(layout) > rank(best) ||
      (rank(layout) === rank(best) && (rank(layout) > 0
        ? layout.streamTokensPerSecond > best.streamTokensPerSecond
        : layout.memory.perGpuGiB < best.memory.perGpuGiB))
    ) best = layout
  }
  return best ?? servingWith(workload, shape, spec, gpus, 1)
}

/** Requests in flight when `gpus` accelerators serve the workload (the spec's figure when it gives one). */
export const concurrentRequests = (workload: InferenceWorkload, accelerator: AcceleratorSpec, gpus: number): number =>
  servingLayout(workload, modelShape(workload.model), accelerator, Math.max(1, Math.floor(gpus))).concurrentRequests

/** Whether `gpus` accelerators serve the workload at its target (used by `minimumGpus`). */
export const meetsInferenceTarget = (workload: InferenceWorkload, accelerator: AcceleratorSpec, gpus: number): boolean =>
  servingMeetsTarget(workload, accelerator, servingLayout(workload, modelShape(workload.model), accelerator, gpus))
