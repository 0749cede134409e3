import { describe, expect, it } from "vitest"
import {
  Autoscaler,
  desiredReplicas,
  type LoadSignals,
  RequestRateAutoscaler,
  type ScalingRule,
  signalReplicas,
  SlidingExtremum
} from "../src/index.ts"

const rule = (overrides: Partial<ScalingRule> = {}): ScalingRule => ({
  minReplicas: 2,
  maxReplicas: 40,
  requestsInFlightPerReplica: 8,
  requestsPerSecondPerReplica: null,
  queueDepthPerReplica: null,
  tolerance: 0.1,
  scaleUpWindowMinutes: 1,
  scaleDownWindowMinutes: 10,
  scaleInBelowGpuUtilization: 0.3,
  scaleInWindowMinutes: 15,
  ...overrides
})

const load = (inFlight: number, overrides: Partial<LoadSignals> = {}): LoadSignals => ({
  requestsInFlight: inFlight,
  requestsPerSecond: 0,
  queueDepth: 0,
  gpuUtilization: 0.5,
  ...overrides
})

describe("the HPA rule per signal", () => {
  it("asks for ceil(current × metric ÷ target): 4 replicas at 12 in flight each, target 8, want 6", () => {
    // Kubernetes docs' example shape: currentMetricValue / desiredMetricValue × currentReplicas.
    expect(signalReplicas(4, 4 * 12, 8, 0.1)).toBe(6)
  })

  it("keeps the current count within the 10% tolerance and leaves it just outside", () => {
    expect(signalReplicas(10, 10 * 8.7, 8, 0.1)).toBe(10)
    expect(signalReplicas(10, 10 * 8.9, 8, 0.1)).toBe(12)
    expect(signalReplicas(10, 10 * 7.1, 8, 0.1)).toBe(9)
  })

  it("takes the largest count over every configured signal", () => {
    const several = rule({ requestsPerSecondPerReplica: 2, queueDepthPerReplica: 4 })
    expect(desiredReplicas(several, 0, load(16, { requestsPerSecond: 9, queueDepth: 3 }))).toBe(5)
    expect(desiredReplicas(several, 0, load(16, { requestsPerSecond: 1, queueDepth: 40 }))).toBe(10)
    expect(desiredReplicas(several, 0, load(80, { requestsPerSecond: 1, queueDepth: 0 }))).toBe(10)
  })

  it("stays within min and max", () => {
    expect(desiredReplicas(rule(), 3, load(0))).toBe(2)
    expect(desiredReplicas(rule(), 3, load(1000))).toBe(40)
  })
})

describe("stabilisation and the GPU-utilisation guard", () => {
  it("the sliding window returns the extreme of the last N values", () => {
    const max = new SlidingExtremum(3, "max")
    expect([5, 1, 2, 0, 0, 0, 7].map((v) => max.push(v))).toEqual([5, 5, 5, 2, 2, 0, 7])
    const min = new SlidingExtremum(2, "min")
    expect([5, 1, 2, 9, 3].map((v) => min.push(v))).toEqual([5, 1, 1, 2, 3])
  })

  it("scales up to the smallest recommendation of the up window, so a one-minute burst moves nothing", () => {
    const scaler = new Autoscaler(rule({ scaleUpWindowMinutes: 2 }), 4)
    expect(scaler.step(load(32))).toBe(4)
    expect(scaler.step(load(80))).toBe(4)
    expect(scaler.step(load(8))).toBe(4)
    expect(scaler.step(load(80))).toBe(4)
    expect(scaler.step(load(80))).toBe(10)
  })

  it("scales in only after utilisation stayed below the threshold for the whole window, to the window's largest", () => {
    const scaler = new Autoscaler(rule({ scaleDownWindowMinutes: 3, scaleInWindowMinutes: 4 }), 10)
    const low = load(16, { gpuUtilization: 0.2 })
    expect([1, 2, 3].map(() => scaler.step(low))).toEqual([10, 10, 10])
    expect(scaler.step(low)).toBe(2)
    const busy = new Autoscaler(rule({ scaleDownWindowMinutes: 1, scaleInWindowMinutes: 2 }), 10)
    expect([0.2, 0.5, 0.2, 0.2].map((u) => busy.step(load(16, { gpuUtilization: u })))).toEqual([10, 10, 10, 2])
  })

  it("does not scale in while no replica is ready (utilisation unknown)", () => {
    const scaler = new Autoscaler(rule({ scaleDownWindowMinutes: 1, scaleInWindowMinutes: 1 }), 10)
    expect(scaler.step(load(0, { gpuUtilization: Number.NaN }))).toBe(10)
  })
})

describe("SkyServe's request-rate autoscaler", () => {
  it("moves to ceil(QPS ÷ target) only after the 300 s upscale and 1200 s downscale delays", () => {
    const scaler = new RequestRateAutoscaler({ minReplicas: 1, maxReplicas: 20, targetQpsPerReplica: 2, initial: 2 })
    const up = Array.from({ length: 5 }, () => scaler.step(10))
    expect(up).toEqual([2, 2, 2, 2, 5])
    const down = Array.from({ length: 20 }, () => scaler.step(1))
    expect(down.slice(0, 19).every((n) => n === 5)).toBe(true)
    expect(down[19]).toBe(1)
  })

  it("resets its counter when the target falls back to the current count", () => {
    const scaler = new RequestRateAutoscaler({ minReplicas: 1, maxReplicas: 20, targetQpsPerReplica: 2, initial: 2 })
    for (const qps of [10, 10, 10, 4, 10, 10, 10, 10]) scaler.step(qps)
    expect(scaler.current).toBe(2)
    expect(scaler.step(10)).toBe(5)
  })
})
