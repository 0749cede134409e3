/**
 * Memory per GPU split by what holds it (weights, gradients, optimizer state, activations, logits, KV cache,
 * overhead), in GiB: the shape every estimate (training, serving, batch) reports.
 */
import { GIB } from "./Memory.ts"

export interface MemoryBreakdown { // GiB per GPU, after sharding
  readonly weightsGiB: number
  readonly gradientsGiB: number
  readonly optimizerGiB: number
  readonly activationsGiB: number
  readonly logitsGiB: number
  readonly kvCacheGiB: number
  /** CUDA context, allocator fragmentation. */
  readonly overheadGiB: number
  /** The sum. */
  readonly perGpuGiB: number
  /** Across all GPUs. */
  readonly totalGiB: number
}

const toGiB = (bytes: number): number => bytes / GIB

/** The breakdown of per-GPU byte counts on `gpus` GPUs. */
export const breakdown = (parts: {
  readonly weights: number
  readonly gradients: number
  readonly optimizer: number
  readonly activations: number
  readonly logits: number
  readonly kvCache: number
  readonly overhead: number
}, gpus: number): MemoryBreakdown => {
  const perGpu = parts.weights + parts.gradients + parts.optimizer + parts.activations + parts.logits + parts.kvCache +
    parts.overhead
  return {
    weightsGiB: toGiB(parts.weights),
    gradientsGiB: toGiB(parts.gradients),
    optimizerGiB: toGiB(parts.optimizer),
    activationsGiB: toGiB(parts.activations),
    logitsGiB: toGiB(parts.logits),
    kvCacheGiB: toGiB(parts.kvCache),
    overheadGiB: toGiB(parts.overhead),
    perGpuGiB: toGiB(perGpu),
    totalGiB: toGiB(perGpu) * gpus
  }
}
