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
 * O(ticks × states). The best μ is found by cutting planes (3.5–4 solves per run, warm-started
 * from the previous run), stopped once the dual maximum is within 1e-5 of on-demand-only cost.
 * The bound is exact when that schedule finishes the job exactly; otherwise it is below the
 * optimum by the duality gap (measured in docs/spot-policy.md).
 */
import { deadlineTicks, type JobSpec, onDemandOnlyCostUsd, type RunOutcome, spotPriceAt } from "./Simulator.ts"
import type { ZoneSet } from "./SpotTrace.ts"

const MAX_CUTS = 8
/** Stop once the dual maximum can be at most this share of on-demand-only cost above the bound. */
const DUAL_TOLERANCE = 1e-5
/** The warm start evaluates μ this far below the last run's best first, then this far above. */
const BRACKET_LOW = 0.99
const BRACKET_HIGH = 1.01

export class OptimalBoundSolver {
  readonly set: ZoneSet
  // Per state (0 = nothing; then per kind, on-demand first, its phases): value, progress, OD progress.
  private value = new Float64Array(0)
  private progress = new Float64Array(0)
  private od = new Float64Array(0)
  // Per run: each kind's price per tick (0 = on-demand) and whether it can be held (spot available).
  private tickCost = new Float64Array(0)
  private open = new Uint8Array(0)
  private lastValue = 0
  private lastProgress = 0
  private lastOd = 0
  private lastBestMu = 0

  constructor(set: ZoneSet) {
    this.set = set
  }

  /**
   * min over schedules of Σ (price·held − μ·progress); the minimiser's progress and OD progress.
   * Each kind's phases form a chain (phase j is reached only from phase j − 1, the last phase also
   * from itself), so a tick updates the chain in place from its end, and the best state of the
   * next tick is found in the same pass.
   */
  private solve(job: JobSpec, window: number, mu: number): void {
    const g = this.set.tickHours
    const d = job.changeoverHours
    const kinds = 1 + this.set.zones.length
    const phases = Math.max(1, Math.ceil(d / g - 1e-9))
    const states = 1 + kinds * phases
    if (this.value.length < states) {
      this.value = new Float64Array(states)
      this.progress = new Float64Array(states)
      this.od = new Float64Array(states)
    }
    const value = this.value
    const progress = this.progress
    const od = this.od
    const tickCost = this.tickCost
    const open = this.open
    value.fill(Infinity, 0, states)
    value[0] = 0
    progress[0] = 0
    od[0] = 0
    // Progress in the tick a launch starts, and in the tick that reaches phase j (from j − 1).
    const launchGain = Math.max(0, g - d)
    const phaseGain = new Float64Array(phases + 1)
    for (let j = 2; j <= phases; j++) phaseGain[j] = g - Math.min(g, Math.max(0, d - (j - 1) * g))
    let bestValue = 0
    let bestProgress = 0
    let bestOd = 0
    for (let t = 0; t < window; t++) {
      // State 0 (nothing held) keeps the best of the last tick: any instance may be released.
      const fromValue = bestValue
      const fromProgress = bestProgress
      const fromOd = bestOd
      value[0] = fromValue
      progress[0] = fromProgress
      od[0] = fromOd
      let nextBest = 0
      for (let k = 0; k < kinds; k++) {
        const base = 1 + k * phases
        const last = base + phases - 1
        if (open[k * window + t] === 0) {
          for (let s = base; s <= last; s++) value[s] = Infinity
          continue
        }
        const cost = tickCost[k * window + t] as number
        const isOd = k === 0 ? 1 : 0
        // The last phase: held on from itself (full progress), or reached from the phase before.
        {
          let v = Infinity
          let p = 0
          let o = 0
          if (phases === 1) {
            v = fromValue + cost - mu * launchGain
            p = fromProgress + launchGain
            o = fromOd + isOd * launchGain
          }
          const self = value[last] as number
          if (self !== Infinity) {
            const candidate = self + cost - mu * g
            if (candidate < v) {
              v = candidate
              p = (progress[last] as number) + g
              o = (od[last] as number) + isOd * g
            }
          }
          if (phases > 1) {
            const before = value[last - 1] as number
            const gain = phaseGain[phases] as number
            const candidate = before + cost - mu * gain
            // On a tie the phase before wins (the order the exact DP tries them in).
            if (before !== Infinity && candidate <= v) {
              v = candidate
              p = (progress[last - 1] as number) + gain
              o = (od[last - 1] as number) + isOd * gain
            }
          }
          value[last] = v
          progress[last] = p
          od[last] = o
        }
        // Middle phases shift along the chain; phase 1 is a launch from the best state.
        for (let j = phases - 1; j >= 2; j--) {
          const s = base + j - 1
          const before = value[s - 1] as number
          const gain = phaseGain[j] as number
          value[s] = before + cost - mu * gain
          progress[s] = (progress[s - 1] as number) + gain
          od[s] = (od[s - 1] as number) + isOd * gain
        }
        if (phases > 1) {
          value[base] = fromValue + cost - mu * launchGain
          progress[base] = fromProgress + launchGain
          od[base] = fromOd + isOd * launchGain
        }
      }
      // The best state after this tick (the first one on ties).
      let best = Infinity
      for (let s = 0; s < states; s++) {
        const v = value[s] as number
        if (v < best) {
          best = v
          nextBest = s
        }
      }
      bestValue = best
      bestProgress = progress[nextBest] as number
      bestOd = od[nextBest] as number
    }
    this.lastValue = bestValue
    this.lastProgress = bestProgress
    this.lastOd = bestOd
  }

  /** Each kind's price per tick and whether it can be held, for the run starting at `startTick`. */
  private loadRun(job: JobSpec, startTick: number, window: number): void {
    const set = this.set
    const kinds = 1 + set.zones.length
    if (this.tickCost.length < kinds * window) {
      this.tickCost = new Float64Array(kinds * window)
      this.open = new Uint8Array(kinds * window)
    }
    const g = set.tickHours
    this.tickCost.fill(job.onDemandPriceUsdPerHour * g, 0, window)
    this.open.fill(1, 0, window)
    for (let z = 0; z < set.zones.length; z++) {
      const available = set.zones[z]?.available
      const offset = (z + 1) * window
      for (let t = 0; t < window; t++) {
        this.open[offset + t] = available?.[startTick + t] === 1 ? 1 : 0
        this.tickCost[offset + t] = spotPriceAt(set, job, z, startTick + t) * g
      }
    }
  }

  run(job: JobSpec, startTick: number): RunOutcome {
    const set = this.set
    const window = deadlineTicks(set, job)
    this.loadRun(job, startTick, window)
    const C = job.computeHours
    const g = set.tickHours
    const tolerance = DUAL_TOLERANCE * onDemandOnlyCostUsd(job)
    // The best line known on each side of the maximum of L(μ): a schedule that finishes (high)
    // and one that does not (low; idling throughout, cost 0 and no progress, to begin with).
    let lowCost = 0
    let lowProgress = 0
    let highMu = 0
    // Start near the last run's best μ (starts on one trace are alike), bracketing it from below
    // first; any μ gives a valid bound, so the warm start changes the speed, not the guarantee.
    let solvedHigh = false
    if (this.lastBestMu > 0) {
      const mu = this.lastBestMu * BRACKET_LOW
      this.solve(job, window, mu)
      if (this.lastProgress < C - 1e-9) {
        lowCost = this.lastValue + mu * this.lastProgress
        lowProgress = this.lastProgress
        highMu = this.lastBestMu * BRACKET_HIGH
      } else {
        highMu = mu
        solvedHigh = true
      }
    } else {
      // At μ this high, running on-demand every tick beats idling, so the job finishes.
      highMu = (2 * job.onDemandPriceUsdPerHour * g) / Math.max(1e-3 * g, g - job.changeoverHours)
    }
    if (!solvedHigh) this.solve(job, window, highMu)
    // Cheaper zones can still outbid a little progress; raise μ until the minimiser finishes.
    for (let doubling = 0; doubling < 60 && this.lastProgress < C - 1e-9; doubling++) {
      lowCost = this.lastValue + highMu * this.lastProgress
      lowProgress = this.lastProgress
      highMu *= 2
      this.solve(job, window, highMu)
    }
    if (this.lastProgress < C - 1e-9) {
      return { costUsd: Infinity, costNormalized: Infinity, onDemandComputeHours: 0, spotComputeHours: 0, launches: Number.NaN, missedDeadline: true }
    }
    // L(μ) is the lower envelope of one line per schedule, cost + μ·(C − progress), so its maximum
    // is found by Kelley's cutting planes: intersect the best line known on each side of the
    // maximum, evaluate there, keep the new line on its side. Stop when the intersection (an upper
    // bound on the maximum) is within the tolerance of the best value found.
    let highCost = this.lastValue + highMu * this.lastProgress
    let highProgress = this.lastProgress
    let onDemandHours = Math.min(C, this.lastOd)
    let bound = Math.max(0, highCost + highMu * (C - highProgress))
    let bestMu = highMu
    for (let step = 0; step < MAX_CUTS; step++) {
      if (highProgress - lowProgress <= 1e-12) break
      const mu = (highCost - lowCost) / (highProgress - lowProgress)
      const envelope = lowCost + mu * (C - lowProgress)
      if (envelope - bound <= tolerance) break
      this.solve(job, window, mu)
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
