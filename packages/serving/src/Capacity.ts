/**
 * What one replica of a service carries: requests per second, requests in flight and latency, from core's serving
 * estimate (decode tokens per second of the model on the replica's GPUs, memory included) and the request mix
 * (context and generated tokens per request). Pure.
 *
 * A replica's time is split between the two phases of LLM inference (Patel et al., Splitwise, ISCA 2024):
 * - prefill: the prompt, compute-bound, 2·N·context FLOPs at `DECODE_COMPUTE_EFFICIENCY` of the GPUs' peak;
 * - decode: its share of the batched decode steps, generated ÷ (the replica's decode tokens/s at capacity).
 * So one replica serves μ = 1 / (prefill + generated ÷ decode) requests per second, each request lasts
 * prefill + generated ÷ stream rate, and by Little's law μ × latency requests are in flight at capacity.
 */
import {
  type AcceleratorSpec,
  concurrentRequests,
  DECODE_COMPUTE_EFFICIENCY,
  effectivePeakTflops,
  type InferenceWorkload,
  meetsInferenceTarget,
  tensorParallelEfficiency
} from "@frugal/core"

/** Mean tokens of one request. */
export interface RequestMix {
  readonly contextTokens: number
  readonly generatedTokens: number
}

/**
 * The mix used when no request trace gives one: the means of the Azure LLM conversation trace of 2023
 * (19,366 requests: 1,155 context and 211 generated tokens; packages/serving/data/request-traces).
 */
export const DEFAULT_REQUEST_MIX: RequestMix = { contextTokens: 1155, generatedTokens: 211 }

export interface ReplicaCapacity {
  readonly accelerator: string
  readonly gpusPerReplica: number
  /** Decode tokens per second the replica generates at capacity (core's serving estimate). */
  readonly decodeTokensPerSecond: number
  /** Tokens per second each request sees at capacity (at least core's MIN_STREAM_TOKENS_PER_SECOND). */
  readonly streamTokensPerSecond: number
  /** Requests decoding at once at capacity (core's layout). */
  readonly decodingRequests: number
  readonly prefillSecondsPerRequest: number
  /** μ: requests per second the replica serves at capacity. */
  readonly requestsPerSecond: number
  /** Seconds from arrival to last token at capacity. */
  readonly latencySeconds: number
  /** Requests in flight at capacity (μ × latency). */
  readonly requestsInFlight: number
}

const withTarget = (workload: InferenceWorkload, tokensPerSecond: number): InferenceWorkload => {
  const { concurrentRequests: _fixed, ...inference } = workload.inference
  return { ...workload, inference: { ...inference, tokensPerSecond } }
}

/**
 * The most decode tokens per second `gpus` accelerators serve the model at (it fits, and each stream keeps an
 * acceptable speed): the largest target core's `meetsInferenceTarget` accepts, by bisection. 0 when none.
 */
export const maxDecodeTokensPerSecond = (workload: InferenceWorkload, spec: AcceleratorSpec, gpus: number): number => {
  const meets = (tokensPerSecond: number) => meetsInferenceTarget(withTarget(workload, tokensPerSecond), spec, gpus)
  if (!meets(1)) return 0
  let low = 1
  let high = 2
  while (meets(high) && high < 1e9) {
    low = high
    high *= 2
  }
  // 1% is far below what the estimate itself can claim.
  while (high - low > low * 0.01) {
    const mid = (low + high) / 2
    if (meets(mid)) low = mid
    else high = mid
  }
  return low
}

/** Capacity of one replica of `gpus` accelerators for a request mix; null when the replica cannot serve the model. */
export const replicaCapacity = (
  workload: InferenceWorkload,
  spec: AcceleratorSpec,
  gpus: number,
  mix: RequestMix
): ReplicaCapacity | null => {
  const peakTflops = effectivePeakTflops(spec, workload.model.precision)
  if (peakTflops === null || gpus < 1) return null
  const decode = maxDecodeTokensPerSecond(workload, spec, gpus)
  if (!(decode > 0)) return null
  const decoding = concurrentRequests(withTarget(workload, decode), spec, gpus)
  const stream = decode / Math.max(1, decoding)
  const flopsPerSecond = peakTflops * 1e12 * DECODE_COMPUTE_EFFICIENCY * gpus * tensorParallelEfficiency(spec, gpus)
  const prefill = (2 * workload.model.parameters * mix.contextTokens) / flopsPerSecond
  const requestsPerSecond = 1 / (prefill + mix.generatedTokens / decode)
  const latency = prefill + mix.generatedTokens / stream
  return {
    accelerator: spec.name,
    gpusPerReplica: gpus,
    decodeTokensPerSecond: decode,
    streamTokensPerSecond: stream,
    decodingRequests: decoding,
    prefillSecondsPerRequest: prefill,
    requestsPerSecond,
    latencySeconds: latency,
    requestsInFlight: requestsPerSecond * latency
  }
}
