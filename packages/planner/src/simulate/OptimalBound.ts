/**
 * A fast lower bound on the omniscient optimum, for traces and settings where the exact DP of
 * `Optimal.ts` is too slow (its cost grows with ticks × slack; the 195-second 2023 traces have 6×
 * the ticks of the 10-minute ones).
 *
 * Lagrangian relaxation of the one constraint that makes the exact problem hard, "progress ≥ C by
 * the deadline": for a price μ ≥ 0 per hour of progress, min over all schedules of
 * (cost − μ·progress) + μ·C is at most the cost of any schedule that finishes (a schedule that
 * stops mid-tick is matched by holding or releasing that whole tick, both no worse at any μ). That
 * minimum needs no progress dimension: the same states as the exact DP, one number each, so
 * O(ticks × states). The best μ is found by cutting planes (a few solves per run).
 * The bound is exact when that schedule finishes the job exactly; otherwise it is below the
 * optimum by the duality gap (measured in docs/spot-policy.md).
 */
import { deadlineTicks, type JobSpec, onDemandOnlyCostUsd, type RunOutcome, spotPriceAt } from "./Simulator.ts"
import type { ZoneSet } from "./SpotTrace.ts"

const MAX_CUTS = 8

export class OptimalBoundSolver {
  readonly set: ZoneSet
  private value = new Float64Array(0)
  private progress = new Float64Array(0)
  private od = new Float64Array(0)
  private nextValue = new Float64Array(0)
  private nextProgress = new Float64Array(0)
  private nextOd = new Float64Array(0)
  private prices = new Float64Array(0)

  constructor(set: ZoneSet) {
    this.set = set
  }

  /** min over schedules of Σ (price·held − μ·progress); the minimiser's progress and OD progress. */
  private solve(job: JobSpec, startTick: number, window: number, mu: number): void {
    const set = this.set
    const g = set.tickHours
    const d = job.changeoverHours
    const zones = set.zones.length
    const phases = Math.max(1, Math.ceil(d / g - 1e-9))
    const kinds = 1 + zones
    const states = 1 + kinds * phases
    if (this.value.length < states) {
      this.value = new Float64Array(states)
      this.progress = new Float64Array(states)
      this.od = new Float64Array(states)
      this.nextValue = new Float64Array(states)
      this.nextProgress = new Float64Array(states)
      this.nextOd = new Float64Array(states)
    }
    let value = this.value
    let progress = this.progress
    let od = this.od
    let nextValue = this.nextValue
    let nextProgress = this.nextProgress
    let nextOd = this.nextOd
    value.fill(Infinity, 0, states)
    value[0] = 0
    progress[0] = 0
    od[0] = 0
    const launchGain = Math.max(0, g - d)
    for (let t = 0; t < window; t++) {
      const tick = startTick + t
      let best = 0
      let bestValue = Infinity
      for (let s = 0; s < states; s++) {
        const v = value[s] as number
        if (v < bestValue) {
          bestValue = v
          best = s
        }
      }
      const bestProgress = progress[best] as number
      const bestOd = od[best] as number
      nextValue[0] = bestValue
      nextProgress[0] = bestProgress
      nextOd[0] = bestOd
      for (let k = 0; k < kinds; k++) {
        const base = 1 + k * phases
        const isSpot = k > 0
        if (isSpot && (set.zones[k - 1]?.available[tick] ?? 0) !== 1) {
          for (let j = 0; j < phases; j++) nextValue[base + j] = Infinity
          continue
        }
        const price = isSpot ? (this.prices[(k - 1) * window + t] as number) : job.onDemandPriceUsdPerHour
        const tickCost = price * g
        for (let j = 1; j <= phases; j++) {
          // Arrive in phase j: launch (j = 1), or hold on from phase j − 1 (or the last phase).
          let v = Infinity
          let p = 0
          let o = 0
          if (j === 1) {
            v = bestValue + tickCost - mu * launchGain
            p = bestProgress + launchGain
            o = bestOd + (isSpot ? 0 : launchGain)
          }
          // Hold on from phase j − 1, and in the last phase also from itself.
          for (let pass = 0; pass < 2; pass++) {
            const from = pass === 0 ? (j === 1 ? (phases === 1 ? 1 : 0) : j - 1) : (j === phases && phases > 1 ? phases : 0)
            if (from === 0) continue
            const fromValue = value[base + from - 1] as number
            if (fromValue === Infinity) continue
            const gain = g - Math.min(g, Math.max(0, d - from * g))
            const candidate = fromValue + tickCost - mu * gain
            if (candidate < v) {
              v = candidate
              p = (progress[base + from - 1] as number) + gain
              o = (od[base + from - 1] as number) + (isSpot ? 0 : gain)
            }
          }
          nextValue[base + j - 1] = v
          nextProgress[base + j - 1] = p
          nextOd[base + j - 1] = o
        }
      }
      const swapValue = value
      value = nextValue
      nextValue = swapValue
      const swapProgress = progress
      progress = nextProgress
      nextProgress = swapProgress
      const swapOd = od
      od = nextOd
      nextOd = swapOd
    }
    let best = 0
    for (let s = 1; s < states; s++) if ((value[s] as number) < (value[best] as number)) best = s
    this.lastValue = value[best] as number
    this.lastProgress = progress[best] as number
    this.lastOd = od[best] as number
    this.value = value
    this.progress = progress
    this.od = od
    this.nextValue = nextValue
    this.nextProgress = nextProgress
    this.nextOd = nextOd
  }
  private lastValue = 0
  private lastProgress = 0
  private lastOd = 0
  private lastBestMu = 0

  run(job: JobSpec, startTick: number): RunOutcome {
    const set = this.set
    const window = deadlineTicks(set, job)
    const zones = set.zones.length
    if (this.prices.length < zones * window) this.prices = new Float64Array(zones * window)
    for (let z = 0; z < zones; z++) {
      for (let t = 0; t < window; t++) this.prices[z * window + t] = spotPriceAt(set, job, z, startTick + t)
    }
    const C = job.computeHours
    // At μ this high, running on-demand every tick beats idling, so the job finishes.
    const g = set.tickHours
    // Start near the last run's best μ (starts on one trace are alike); any μ gives a valid bound.
    let high = this.lastBestMu > 0
      ? this.lastBestMu * 1.05
      : (2 * job.onDemandPriceUsdPerHour * g) / Math.max(1e-3 * g, g - job.changeoverHours)
    let lowCost = 0
    let lowProgress = 0
    this.solve(job, startTick, window, high)
    // Cheaper zones can still outbid a little progress; raise μ until the minimiser finishes.
    for (let doubling = 0; doubling < 60 && this.lastProgress < C - 1e-9; doubling++) {
      lowCost = this.lastValue + high * this.lastProgress
      lowProgress = this.lastProgress
      high *= 2
      this.solve(job, startTick, window, high)
    }
    if (this.lastProgress < C - 1e-9) {
      return { costUsd: Infinity, costNormalized: Infinity, onDemandComputeHours: 0, spotComputeHours: 0, launches: Number.NaN, missedDeadline: true }
    }
    // L(μ) is the lower envelope of one line per schedule, cost + μ·(C − progress), so its maximum
    // is found by Kelley's cutting planes: intersect the best line known on each side of the
    // maximum, evaluate there, keep the new line on its side. Finite for piecewise-linear L.
    let highCost = this.lastValue + high * this.lastProgress
    let highProgress = this.lastProgress
    let onDemandHours = Math.min(C, this.lastOd)
    let bound = Math.max(0, highCost + high * (C - highProgress))
    let bestMu = high
    for (let step = 0; step < MAX_CUTS; step++) {
      if (highProgress - lowProgress <= 1e-12) break
      const mu = (highCost - lowCost) / (highProgress - lowProgress)
      const envelope = lowCost + mu * (C - lowProgress)
      this.solve(job, startTick, window, mu)
      const cost = this.lastValue + mu * this.lastProgress
      const lagrangian = cost + mu * (C - this.lastProgress)
      if (lagrangian > bound) {
        bound = lagrangian
        bestMu = mu
      }
      if (envelope - lagrangian <= 1e-9 * Math.max(1, envelope)) break
      if (this.lastProgress >= C) {
        highCost = cost
        highProgress = this.lastProgress
        onDemandHours = Math.min(C, this.lastOd)
      } else {
        lowCost = cost
        lowProgress = this.lastProgress
      }
    }
    this.lastBestMu = bestMu
    return {
      costUsd: bound,
      costNormalized: bound / onDemandOnlyCostUsd(job),
      onDemandComputeHours: onDemandHours,
      spotComputeHours: C - onDemandHours,
      launches: Number.NaN,
      missedDeadline: false
    }
  }
}
