/**
 * Replays a job against a spot trace, tick by tick, with the semantics of Wu et al., NSDI '24,
 * §3.1: the policy decides at the start of every tick; spot held in a zone is pre-empted at the
 * first tick its zone is unavailable; every launch (and every move to another zone) pays the
 * changeover delay d, billed but without progress; the instance held is billed for the time held,
 * and released the moment the job completes. The deadline is the last whole tick within R hours.
 *
 * Nothing is allocated per tick: the state and history objects given to the policy are reused.
 */
import {
  type Holding,
  type JobState,
  NONE,
  type Policy,
  RECENT_SPOT_PERIODS,
  sameHolding,
  type SpotHistory
} from "../policies/Policy.ts"
import type { ZoneSet } from "./SpotTrace.ts"

export interface JobSpec {
  readonly computeHours: number
  readonly deadlineHours: number
  readonly changeoverHours: number
  readonly onDemandPriceUsdPerHour: number
  /** Spot price for traces without prices (and for all when `useTracePrices` is false). */
  readonly spotPriceUsdPerHour: number
  /** Use a trace's own per-tick spot prices where it has them. */
  readonly useTracePrices: boolean
}

export interface RunOutcome {
  readonly costUsd: number
  /** Cost over on-demand-only for the same job (C + d hours of on-demand). */
  readonly costNormalized: number
  /** Compute hours (progress, changeovers excluded) made on on-demand and on spot. */
  readonly onDemandComputeHours: number
  readonly spotComputeHours: number
  readonly launches: number
  readonly missedDeadline: boolean
}

/** Ticks the job may use: the last whole tick that ends by the deadline. */
export const deadlineTicks = (set: ZoneSet, job: JobSpec): number =>
  Math.floor(job.deadlineHours / set.tickHours + 1e-9)

export const onDemandOnlyCostUsd = (job: JobSpec): number =>
  (job.computeHours + job.changeoverHours) * job.onDemandPriceUsdPerHour

/** Spot price of zone `zone` at tick `tick` for this job. */
export const spotPriceAt = (set: ZoneSet, job: JobSpec, zone: number, tick: number): number => {
  const prices = job.useTracePrices ? set.zones[zone]?.spotPriceUsdPerHour : null
  return prices?.[tick] ?? job.spotPriceUsdPerHour
}

class SimulatedState implements JobState {
  computeHours = 0
  deadlineHours = 0
  changeoverHours = 0
  elapsedHours = 0
  computeHoursLeft = 0
  hoursToDeadline = 0
  overheadHoursLeft = 0
  stepHours = 0
  spotHoldsForStep = true
  holding: Holding = NONE
  spotAvailable: Uint8Array
  spotPriceUsdPerHour: Float64Array
  onDemandPriceUsdPerHour = 0
  seed = 0
  constructor(zones: number) {
    this.spotAvailable = new Uint8Array(zones)
    this.spotPriceUsdPerHour = new Float64Array(zones)
  }
}

/** The history as of tick `now`, answered from the traces' prefix indexes. */
class TraceHistory implements SpotHistory {
  now = 0
  readonly set: ZoneSet
  constructor(set: ZoneSet) {
    this.set = set
  }
  currentStateHours(zone: number): number {
    const index = this.set.indexes[zone]
    return index === undefined ? 0 : (this.now - (index.runStart[this.now] ?? 0)) * this.set.tickHours
  }
  completedSpotPeriods(zone: number): number {
    return this.set.indexes[zone]?.completedSpotRuns[this.now] ?? 0
  }
  completedSpotPeriodHours(zone: number): number {
    return (this.set.indexes[zone]?.completedSpotRunTicks[this.now] ?? 0) * this.set.tickHours
  }
  meanResidualSpotHours(zone: number, ageHours: number): number {
    const index = this.set.indexes[zone]
    if (index === undefined) return Number.NaN
    const completed = index.completedSpotRuns[this.now] ?? 0
    const ageTicks = ageHours / this.set.tickHours
    let count = 0
    let total = 0
    // The most recent periods only: recent behaviour predicts better, and the cost stays bounded.
    for (let r = Math.max(0, completed - RECENT_SPOT_PERIODS); r < completed; r++) {
      const length = index.spotRunLengths[r] ?? 0
      if (length > ageTicks + 1e-9) {
        count++
        total += length - ageTicks
      }
    }
    return count === 0 ? Number.NaN : (total / count) * this.set.tickHours
  }
  // Hours before now, as the Supervisor's EventSpotHistory counts them: the tick starting now has not passed yet.
  observedHours(_zone: number): number {
    return this.now * this.set.tickHours
  }
  availableHours(zone: number): number {
    const index = this.set.indexes[zone]
    if (index === undefined) return 0
    const upToNow = index.availableTicks[this.now] ?? 0
    return (upToNow - (this.set.zones[zone]?.available[this.now] ?? 0)) * this.set.tickHours
  }
}

/** Reusable simulator for one zone set: `run` replays one job from one start tick. */
export class Simulator {
  readonly set: ZoneSet
  private readonly state: SimulatedState
  private readonly history: TraceHistory
  constructor(set: ZoneSet) {
    this.set = set
    this.state = new SimulatedState(set.zones.length)
    this.history = new TraceHistory(set)
  }

  run(job: JobSpec, policy: Policy, startTick: number, seed: number): RunOutcome {
    const set = this.set
    const g = set.tickHours
    const zones = set.zones.length
    const s = this.state
    const d = job.changeoverHours
    const window = deadlineTicks(set, job)
    s.computeHours = job.computeHours
    s.deadlineHours = job.deadlineHours
    s.changeoverHours = d
    s.stepHours = g
    s.onDemandPriceUsdPerHour = job.onDemandPriceUsdPerHour
    s.seed = seed
    s.holding = NONE
    s.overheadHoursLeft = 0
    let left = job.computeHours
    let cost = 0
    let onDemandHours = 0
    let spotHours = 0
    let launches = 0
    for (let t = 0; t < window && left > 1e-9; t++) {
      const tick = startTick + t
      for (let z = 0; z < zones; z++) {
        s.spotAvailable[z] = set.zones[z]?.available[tick] ?? 0
        s.spotPriceUsdPerHour[z] = spotPriceAt(set, job, z, tick)
      }
      const held = s.holding
      if (held.kind === "spot" && s.spotAvailable[held.zone] !== 1) {
        s.holding = NONE
        s.overheadHoursLeft = 0
      }
      s.elapsedHours = t * g
      s.hoursToDeadline = (window - t) * g
      s.computeHoursLeft = left
      this.history.now = tick
      let next = policy.decide(s, this.history)
      if (next.kind === "spot" && s.spotAvailable[next.zone] !== 1) next = NONE
      if (!sameHolding(next, s.holding)) {
        s.holding = next
        s.overheadHoursLeft = next.kind === "none" ? 0 : d
        if (next.kind !== "none") launches++
      }
      const holding = s.holding
      if (holding.kind === "none") continue
      const price = holding.kind === "spot" ? (s.spotPriceUsdPerHour[holding.zone] ?? 0) : job.onDemandPriceUsdPerHour
      const overhead = Math.min(s.overheadHoursLeft, g)
      const progress = g - overhead
      const done = Math.min(progress, left)
      cost += price * (progress >= left ? overhead + left : g)
      s.overheadHoursLeft -= overhead
      left -= done
      if (holding.kind === "spot") spotHours += done
      else onDemandHours += done
    }
    const missed = left > 1e-9
    return {
      costUsd: cost,
      costNormalized: cost / onDemandOnlyCostUsd(job),
      onDemandComputeHours: onDemandHours,
      spotComputeHours: spotHours,
      launches,
      missedDeadline: missed
    }
  }
}
