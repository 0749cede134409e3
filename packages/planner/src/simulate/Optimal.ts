/**
 * The omniscient lower bound: the cheapest schedule that finishes by the deadline, knowing the whole
 * trace in advance (Wu et al., NSDI '24, §3.2 and Appendix: the "Omniscient" policy), computed by
 * exact dynamic programming over the tick grid.
 *
 * State after each tick: what is held (nothing, on-demand, spot in zone z), how many ticks it has
 * been held (while the changeover is still running), and the progress made, counted in units of
 * 1/m of a tick. Any instance may be released or launched at a tick boundary, and spot may be held
 * only in ticks its zone is available; this is every schedule the simulator can play. When d is a
 * whole number of units the result is exact; otherwise d is rounded down to whole units and the work
 * C down to whole units, which makes the result a true lower bound that is a few seconds of
 * changeover per launch too optimistic. `subTicks` trades that rounding for speed.
 *
 * Only progress values from which the deadline can still be met are kept (a band as wide as the
 * slack R − C), which is what makes 300 starts × 17 traces × 12 settings run in seconds.
 */
import { deadlineTicks, type JobSpec, onDemandOnlyCostUsd, type RunOutcome, spotPriceAt } from "./Simulator.ts"
import type { ZoneSet } from "./SpotTrace.ts"

export interface OptimalOptions {
  /** Largest number of progress units per tick to try (the smallest one that makes d whole wins). */
  readonly maxSubTicks?: number
}

/** Units per tick: the smallest m ≤ max for which d is a whole number of 1/m ticks, else max. */
export const progressUnitsPerTick = (tickHours: number, changeoverHours: number, maxSubTicks: number): number => {
  for (let m = 1; m <= maxSubTicks; m++) {
    const units = (changeoverHours * m) / tickHours
    if (Math.abs(units - Math.round(units)) < 1e-6) return m
  }
  return maxSubTicks
}

export class OptimalSolver {
  readonly set: ZoneSet
  private readonly maxSubTicks: number
  private cost: Float64Array = new Float64Array(0)
  private next: Float64Array = new Float64Array(0)
  private od: Float64Array = new Float64Array(0)
  private nextOd: Float64Array = new Float64Array(0)
  private minAll: Float64Array = new Float64Array(0)
  private minAllOd: Float64Array = new Float64Array(0)

  constructor(set: ZoneSet, options: OptimalOptions = {}) {
    this.set = set
    this.maxSubTicks = options.maxSubTicks ?? 5
  }

  private ensure(size: number, width: number): void {
    if (this.cost.length < size) {
      this.cost = new Float64Array(size)
      this.next = new Float64Array(size)
      this.od = new Float64Array(size)
      this.nextOd = new Float64Array(size)
    }
    if (this.minAll.length < width) {
      this.minAll = new Float64Array(width)
      this.minAllOd = new Float64Array(width)
    }
  }

  run(job: JobSpec, startTick: number): RunOutcome {
    const set = this.set
    const g = set.tickHours
    const zones = set.zones.length
    const window = deadlineTicks(set, job)
    const m = progressUnitsPerTick(g, job.changeoverHours, this.maxSubTicks)
    const unitHours = g / m
    const target = Math.floor(job.computeHours / unitHours + 1e-9)
    const delay = Math.floor(job.changeoverHours / unitHours + 1e-9)
    // Ticks an instance needs before its changeover is over (at least 1: the launch tick).
    const phases = Math.max(1, Math.ceil(delay / m))
    const launchGain = Math.max(0, m - delay)
    // States: 0 = nothing; then for each kind k (0 = on-demand, 1 + z = spot in zone z) the phases
    // 1..phases (phase j: held for j ticks, capped at `phases` once the changeover is over).
    const kinds = 1 + zones
    const states = 1 + kinds * phases
    const width = target + 1
    this.ensure(states * width, width)
    let cost = this.cost
    let next = this.next
    let od = this.od
    let nextOd = this.nextOd
    const minAll = this.minAll
    const minAllOd = this.minAllOd
    const alive = new Uint8Array(states)
    const nextAlive = new Uint8Array(states)
    cost.fill(Infinity, 0, states * width)
    cost[0] = 0
    od[0] = 0
    alive[0] = 1
    let lo = 0
    let hi = 0
    let bestCost = Infinity
    let bestOd = 0
    const odPrice = job.onDemandPriceUsdPerHour
    for (let t = 0; t < window; t++) {
      const tick = startTick + t
      // Progress at the end of this tick from which the remaining ticks can still finish the job.
      const newLo = Math.max(0, target - (window - t - 1) * m)
      const newHi = Math.min(target - 1, (t + 1) * m)
      // Best of every state at each progress value: the source of every release and launch.
      for (let p = lo; p <= hi; p++) {
        minAll[p] = Infinity
      }
      for (let s = 0; s < states; s++) {
        if (alive[s] === 0) continue
        const base = s * width
        for (let p = lo; p <= hi; p++) {
          const c = cost[base + p] ?? Infinity
          if (c < (minAll[p] ?? Infinity)) {
            minAll[p] = c
            minAllOd[p] = od[base + p] ?? 0
          }
        }
      }
      nextAlive.fill(0)
      // Nothing held: keep the progress.
      {
        nextAlive[0] = 1
        for (let p = newLo; p <= newHi; p++) {
          if (p >= lo && p <= hi) {
            next[p] = minAll[p] ?? Infinity
            nextOd[p] = minAllOd[p] ?? 0
          } else {
            next[p] = Infinity
          }
        }
      }
      for (let k = 0; k < kinds; k++) {
        const isSpot = k > 0
        if (isSpot && (set.zones[k - 1]?.available[tick] ?? 0) !== 1) continue
        const price = isSpot ? spotPriceAt(set, job, k - 1, tick) : odPrice
        const tickCost = price * g
        const unitCost = price * unitHours
        for (let j = 1; j <= phases; j++) {
          const s = 1 + k * phases + (j - 1)
          const base = s * width
          nextAlive[s] = 1
          for (let p = newLo; p <= newHi; p++) next[base + p] = Infinity
          // Arrive in phase j by launching (j = 1) or by holding one more tick from phase j − 1
          // (or from the last phase, which repeats once the changeover is over).
          if (j === 1) {
            // Launch from anything (moving zones included): pays the whole changeover.
            const overhead = delay
            const finishCost = unitCost * Math.min(overhead, m)
            for (let p = lo; p <= hi; p++) {
              const c = minAll[p] as number
              if (c === Infinity) continue
              const reached = p + launchGain
              if (reached >= target) {
                const total = c + finishCost + unitCost * (target - p)
                if (total < bestCost) {
                  bestCost = total
                  bestOd = (minAllOd[p] as number) + (isSpot ? 0 : target - p)
                }
              } else if (reached >= newLo) {
                const total = c + tickCost
                if (total < (next[base + reached] as number)) {
                  next[base + reached] = total
                  nextOd[base + reached] = (minAllOd[p] as number) + (isSpot ? 0 : launchGain)
                }
              }
            }
          }
          // Hold one more tick from phase j − 1 (or from the last phase, which repeats once the
          // changeover is over).
          const fromPhase = j === 1 ? (phases === 1 ? 1 : 0) : j - 1
          for (let pass = 0; pass < 2; pass++) {
            const source = pass === 0 ? fromPhase : (j === phases && phases > 1 ? phases : 0)
            if (source === 0) continue
            const fromState = 1 + k * phases + (source - 1)
            if (alive[fromState] === 0) continue
            const overhead = Math.max(0, delay - source * m)
            const gain = m - Math.min(overhead, m)
            const finishCost = unitCost * Math.min(overhead, m)
            const fromBase = fromState * width
            const odGain = isSpot ? 0 : gain
            for (let p = lo; p <= hi; p++) {
              const c = cost[fromBase + p] as number
              if (c === Infinity) continue
              const reached = p + gain
              if (reached >= target) {
                const total = c + finishCost + unitCost * (target - p)
                if (total < bestCost) {
                  bestCost = total
                  bestOd = (od[fromBase + p] as number) + (isSpot ? 0 : target - p)
                }
              } else if (reached >= newLo) {
                const total = c + tickCost
                if (total < (next[base + reached] as number)) {
                  next[base + reached] = total
                  nextOd[base + reached] = (od[fromBase + p] as number) + odGain
                }
              }
            }
          }
        }
      }
      const swapCost = cost
      cost = next
      next = swapCost
      const swapOd = od
      od = nextOd
      nextOd = swapOd
      alive.set(nextAlive)
      lo = newLo
      hi = newHi
      if (lo > hi) break
    }
    this.cost = cost
    this.next = next
    this.od = od
    this.nextOd = nextOd
    const missed = bestCost === Infinity
    const onDemandComputeHours = missed ? 0 : Math.min(job.computeHours, bestOd * unitHours)
    return {
      costUsd: bestCost,
      costNormalized: bestCost / onDemandOnlyCostUsd(job),
      onDemandComputeHours,
      spotComputeHours: missed ? 0 : job.computeHours - onDemandComputeHours,
      launches: Number.NaN,
      missedDeadline: missed
    }
  }
}
