/**
 * How many replicas a service wants, from its load, minute by minute. Pure: data in, data out (the classes keep
 * only the windows of past recommendations, like the Kubernetes controller does).
 *
 * - Per signal, the HPA rule that KEDA also uses (Kubernetes "Horizontal Pod Autoscaling", algorithm details):
 *   desired = ceil(current × metric ÷ target), with the metric the mean per replica, so ceil(total ÷ target);
 *   no change while the ratio is within the 10% tolerance. With several signals, the largest count wins.
 * - Stabilisation windows (HPA `behavior`): a scale-up goes to the smallest recommendation of the last
 *   `scaleUpDelaySeconds`, a scale-down to the largest of the last `scaleDownDelaySeconds`, so a burst shorter
 *   than the window does not move the count and a dip shorter than the window does not drop replicas.
 * - Scale-in guard: replicas are removed only after the mean GPU utilisation stayed below
 *   `scaleInBelowGpuUtilization` for `scaleInWindowMinutes` in a row.
 * - Never below `replicas.min`, never above `replicas.max`.
 *
 * `RequestRateAutoscaler` is SkyServe's autoscaler (skypilot `sky/serve/autoscalers.py`): one signal, requests
 * per second ÷ a target QPS per replica, applied only after the decision held for the upscale (300 s) or
 * downscale (1200 s) delay.
 */
import type { ServiceSection } from "@frugal/core"

/** The load a service reported over the last minute, totals across its ready replicas. */
export interface LoadSignals {
  readonly requestsInFlight: number
  readonly requestsPerSecond: number
  readonly queueDepth: number
  /** Mean GPU utilisation of the ready replicas, 0..1; NaN when none is ready. */
  readonly gpuUtilization: number
}

export interface ScalingRule {
  readonly minReplicas: number
  readonly maxReplicas: number
  readonly requestsInFlightPerReplica: number | null
  readonly requestsPerSecondPerReplica: number | null
  readonly queueDepthPerReplica: number | null
  /** HPA's default tolerance (`--horizontal-pod-autoscaler-tolerance`). */
  readonly tolerance: number
  readonly scaleUpWindowMinutes: number
  readonly scaleDownWindowMinutes: number
  readonly scaleInBelowGpuUtilization: number
  readonly scaleInWindowMinutes: number
}

export const HPA_TOLERANCE = 0.1

/** Minutes a window of `seconds` spans at one-minute resolution (at least the current minute). */
export const windowMinutes = (seconds: number): number => Math.max(1, Math.ceil(seconds / 60))

export const scalingRuleOf = (service: ServiceSection): ScalingRule => ({
  minReplicas: service.replicas.min,
  maxReplicas: service.replicas.max,
  requestsInFlightPerReplica: service.target.requestsInFlightPerReplica ?? null,
  requestsPerSecondPerReplica: service.target.requestsPerSecondPerReplica ?? null,
  queueDepthPerReplica: service.target.queueDepthPerReplica ?? null,
  tolerance: HPA_TOLERANCE,
  scaleUpWindowMinutes: windowMinutes(service.scaleUpDelaySeconds),
  scaleDownWindowMinutes: windowMinutes(service.scaleDownDelaySeconds),
  scaleInBelowGpuUtilization: service.scaleInBelowGpuUtilization,
  scaleInWindowMinutes: service.scaleInWindowMinutes
})

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value))

/** One signal's HPA recommendation: ceil(total ÷ target), or `current` within the tolerance. */
export const signalReplicas = (current: number, total: number, targetPerReplica: number, tolerance: number): number => {
  if (current > 0 && Math.abs(total / (current * targetPerReplica) - 1) <= tolerance) return current
  // A hair of slack so that 16.000000001 ÷ 8 does not become 3 replicas.
  return Math.ceil(total / targetPerReplica - 1e-9)
}

/** The largest recommendation over the rule's signals, within [min, max]. */
export const desiredReplicas = (rule: ScalingRule, current: number, load: LoadSignals): number => {
  let desired = 0
  const consider = (total: number, target: number | null) => {
    if (target !== null) desired = Math.max(desired, signalReplicas(current, total, target, rule.tolerance))
  }
  consider(load.requestsInFlight, rule.requestsInFlightPerReplica)
  consider(load.requestsPerSecond, rule.requestsPerSecondPerReplica)
  consider(load.queueDepth, rule.queueDepthPerReplica)
  return clamp(desired, rule.minReplicas, rule.maxReplicas)
}

/** The minimum or maximum of the last `size` values pushed, in O(1) amortised per push (a monotonic deque). */
export class SlidingExtremum {
  private readonly size: number
  private readonly keepMax: boolean
  private readonly values: Float64Array
  private readonly times: Float64Array
  private head = 0
  private tail = 0
  private time = 0
  constructor(size: number, keep: "min" | "max") {
    this.size = Math.max(1, size)
    this.keepMax = keep === "max"
    this.values = new Float64Array(this.size + 1)
    this.times = new Float64Array(this.size + 1)
  }
  private at(i: number): number {
    return i % this.values.length
  }
  push(value: number): number {
    const dominated = (other: number) => (this.keepMax ? other <= value : other >= value)
    while (this.tail > this.head && dominated(this.values[this.at(this.tail - 1)] ?? 0)) this.tail--
    this.values[this.at(this.tail)] = value
    this.times[this.at(this.tail)] = this.time
    this.tail++
    while ((this.times[this.at(this.head)] ?? 0) <= this.time - this.size) this.head++
    this.time++
    return this.values[this.at(this.head)] ?? value
  }
}

/** The service's own rule with its stabilisation windows and GPU-utilisation guard; one `step` per minute. */
export class Autoscaler {
  readonly rule: ScalingRule
  current: number
  private readonly upWindow: SlidingExtremum
  private readonly downWindow: SlidingExtremum
  private lowUtilizationMinutes = 0
  constructor(rule: ScalingRule, initial: number) {
    this.rule = rule
    this.current = clamp(initial, rule.minReplicas, rule.maxReplicas)
    this.upWindow = new SlidingExtremum(rule.scaleUpWindowMinutes, "min")
    this.downWindow = new SlidingExtremum(rule.scaleDownWindowMinutes, "max")
  }
  step(load: LoadSignals): number {
    const rule = this.rule
    const raw = desiredReplicas(rule, this.current, load)
    const up = this.upWindow.push(raw)
    const down = this.downWindow.push(raw)
    this.lowUtilizationMinutes = load.gpuUtilization < rule.scaleInBelowGpuUtilization ? this.lowUtilizationMinutes + 1 : 0
    if (up > this.current) this.current = up
    else if (down < this.current && this.lowUtilizationMinutes >= rule.scaleInWindowMinutes) this.current = down
    return this.current
  }
}

/** SkyServe's delays, in seconds (SkyPilot `sky/serve/constants.py`). */
export const SKYSERVE_UPSCALE_DELAY_SECONDS = 300
export const SKYSERVE_DOWNSCALE_DELAY_SECONDS = 1200

/**
 * SkyServe's `RequestRateAutoscaler`: target = ceil(QPS ÷ target QPS per replica) within [min, max]; the count moves
 * to the target once the target stayed above (below) it for the upscale (downscale) delay.
 */
export class RequestRateAutoscaler {
  current: number
  private readonly minReplicas: number
  private readonly maxReplicas: number
  private readonly targetQpsPerReplica: number
  private readonly upscaleMinutes: number
  private readonly downscaleMinutes: number
  private upscaleCounter = 0
  private downscaleCounter = 0
  constructor(options: {
    readonly minReplicas: number
    readonly maxReplicas: number
    readonly targetQpsPerReplica: number
    readonly initial: number
    readonly upscaleDelaySeconds?: number
    readonly downscaleDelaySeconds?: number
  }) {
    this.minReplicas = options.minReplicas
    this.maxReplicas = options.maxReplicas
    this.targetQpsPerReplica = options.targetQpsPerReplica
    this.current = clamp(options.initial, options.minReplicas, options.maxReplicas)
    this.upscaleMinutes = windowMinutes(options.upscaleDelaySeconds ?? SKYSERVE_UPSCALE_DELAY_SECONDS)
    this.downscaleMinutes = windowMinutes(options.downscaleDelaySeconds ?? SKYSERVE_DOWNSCALE_DELAY_SECONDS)
  }
  target(requestsPerSecond: number): number {
    return clamp(Math.ceil(requestsPerSecond / this.targetQpsPerReplica - 1e-9), this.minReplicas, this.maxReplicas)
  }
  step(requestsPerSecond: number): number {
    const target = this.target(requestsPerSecond)
    if (target > this.current) {
      this.upscaleCounter++
      this.downscaleCounter = 0
      if (this.upscaleCounter >= this.upscaleMinutes) {
        this.current = target
        this.upscaleCounter = 0
      }
    } else if (target < this.current) {
      this.downscaleCounter++
      this.upscaleCounter = 0
      if (this.downscaleCounter >= this.downscaleMinutes) {
        this.current = target
        this.downscaleCounter = 0
      }
    } else {
      this.upscaleCounter = 0
      this.downscaleCounter = 0
    }
    return this.current
  }
}
