/**
 * How likely spot replicas are to be reclaimed within a cold start, zone by zone and together. Pure.
 *
 * Reclaims are Poisson processes (the planner's spot pricing makes the same assumption): spot that a process with
 * rate λ per hour can take is lost within a window of w hours with probability 1 − e^(−λ·w). The window that
 * matters is the cold start: a replacement launched at the reclaim serves only that much later. Two processes:
 * - a zone's own reclaims (its spot goes alone);
 * - regional events: several zones of one region lose spot in the same minute (capacity a region's zones share:
 *   of the 202 steps in which two or more of the 2023 nine-zone traces lost spot at once, 161 were one region's).
 * Rates are estimated online from what has been observed so far: events ÷ hours exposed, shrunk towards a prior
 * (the catalog's Spot Instance Advisor bucket, `spotRisk`) worth `PRIOR_HOURS` of observation, so a zone seen for
 * an hour is neither trusted nor condemned.
 *
 * Given spot replicas per zone, the distribution of the replicas lost in one window is exact: zones are
 * independent within a region, regions independent of each other, and a regional event takes all the region's
 * spot. A small dynamic programme over the loss gives it.
 */

/** Hours of observation the prior is worth. */
export const PRIOR_HOURS = 24

/**
 * A region's prior rate of regional events, as a share of its zones' prior reclaim rate: in the 2023 nine-zone
 * traces, 161 steps lost several zones of one region at once against 1,454 that lost a single zone.
 */
export const REGIONAL_PRIOR_SHARE = 161 / 1454

/**
 * Acceptable chance, per cold-start window, that reclaims leave fewer than `replicas.min` replicas: the
 * availability objective (99.9% of the time with `replicas.min` ready) read as a per-window probability.
 */
export const FLOOR_SHORTFALL_TOLERANCE = 0.001
/**
 * Acceptable chance, per cold-start window, that reclaims leave less capacity than the load needs: the budget of
 * requests over capacity (0.5%). The chance of any shortfall bounds the share of requests it leaves unserved.
 */
export const LOAD_SHORTFALL_TOLERANCE = 0.005

/** Probability that a process with rate λ (per hour) strikes within `hours`. */
export const reclaimProbability = (eventsPerHour: number, hours: number): number =>
  1 - Math.exp(-Math.max(0, eventsPerHour) * Math.max(0, hours))

const shrunk = (events: number, hours: number, prior: number): number => (events + prior * PRIOR_HOURS) / (hours + PRIOR_HOURS)

/** Online estimates of the two rates, fed one availability vector per step. */
export class SpotRiskEstimate {
  readonly zones: number
  readonly regionOfZone: Int32Array
  readonly regions: number
  private readonly zonePrior: Float64Array
  private readonly regionPrior: Float64Array
  private readonly zoneEvents: Float64Array
  private readonly zoneHours: Float64Array
  private readonly regionEvents: Float64Array
  private readonly regionHours: Float64Array
  private readonly was: Uint8Array
  private readonly flips: Int32Array
  private started = false

  /** `regionOfZone[z]`: index of zone z's region; priors per zone from the catalog. */
  constructor(regionOfZone: ReadonlyArray<number>, zonePriorPerHour: ReadonlyArray<number>) {
    this.zones = regionOfZone.length
    this.regionOfZone = Int32Array.from(regionOfZone)
    this.regions = this.regionOfZone.reduce((n, r) => Math.max(n, r + 1), 0)
    this.zonePrior = Float64Array.from(zonePriorPerHour)
    this.regionPrior = new Float64Array(this.regions)
    this.regionOfZone.forEach((r, z) => {
      this.regionPrior[r] = Math.max(this.regionPrior[r] ?? 0, (this.zonePrior[z] ?? 0) * REGIONAL_PRIOR_SHARE)
    })
    this.zoneEvents = new Float64Array(this.zones)
    this.zoneHours = new Float64Array(this.zones)
    this.regionEvents = new Float64Array(this.regions)
    this.regionHours = new Float64Array(this.regions)
    this.was = new Uint8Array(this.zones)
    this.flips = new Int32Array(this.regions)
  }

  /** Records one step of `hours` in which `available[z]` says whether spot could be had in zone z. */
  observe(available: Uint8Array, hours: number): void {
    this.flips.fill(0)
    for (let z = 0; z < this.zones; z++) {
      const now = available[z] ?? 0
      if (this.started && this.was[z] === 1 && now === 0) {
        const r = this.regionOfZone[z] ?? 0
        this.flips[r] = (this.flips[r] ?? 0) + 1
      }
    }
    // Exposure: a zone while it has spot; a region while two of its zones have.
    const upInRegion = new Int32Array(this.regions)
    for (let z = 0; z < this.zones; z++) {
      if (this.was[z] !== 1) continue
      this.zoneHours[z] = (this.zoneHours[z] ?? 0) + hours
      const r = this.regionOfZone[z] ?? 0
      upInRegion[r] = (upInRegion[r] ?? 0) + 1
    }
    for (let r = 0; r < this.regions; r++) {
      if ((upInRegion[r] ?? 0) >= 2) this.regionHours[r] = (this.regionHours[r] ?? 0) + hours
      if ((this.flips[r] ?? 0) >= 2) this.regionEvents[r] = (this.regionEvents[r] ?? 0) + 1
    }
    for (let z = 0; z < this.zones; z++) {
      const r = this.regionOfZone[z] ?? 0
      // A reclaim that was part of a regional event is that event's, not the zone's.
      if (this.started && this.was[z] === 1 && (available[z] ?? 0) === 0 && (this.flips[r] ?? 0) < 2) {
        this.zoneEvents[z] = (this.zoneEvents[z] ?? 0) + 1
      }
      this.was[z] = available[z] ?? 0
    }
    this.started = true
  }

  zoneEventsPerHour(zone: number): number {
    return shrunk(this.zoneEvents[zone] ?? 0, this.zoneHours[zone] ?? 0, this.zonePrior[zone] ?? 0)
  }
  regionEventsPerHour(region: number): number {
    return shrunk(this.regionEvents[region] ?? 0, this.regionHours[region] ?? 0, this.regionPrior[region] ?? 0)
  }
  /** Everything that can take zone z's spot, as one rate (for ranking zones by expected cost). */
  interruptionsPerHour(zone: number): number {
    return this.zoneEventsPerHour(zone) + this.regionEventsPerHour(this.regionOfZone[zone] ?? 0)
  }
}

/** Probabilities of each process striking within one window. */
export interface LossModel {
  readonly zoneProbability: Float64Array
  readonly regionOfZone: Int32Array
  readonly regionProbability: Float64Array
}

/** The probabilities within a window of `windowHours`; a zone without spot now has none to lose (probability 1). */
export const lossModel = (risk: SpotRiskEstimate, windowHours: number, available: Uint8Array): LossModel => ({
  zoneProbability: Float64Array.from({ length: risk.zones }, (_, z) =>
    available[z] === 1 ? reclaimProbability(risk.zoneEventsPerHour(z), windowHours) : 1),
  regionOfZone: risk.regionOfZone,
  regionProbability: Float64Array.from({ length: risk.regions }, (_, r) => reclaimProbability(risk.regionEventsPerHour(r), windowHours))
})

/** Scratch arrays reused between calls (the simulator calls this thousands of times a replay). */
export class LossScratch {
  total = new Float64Array(64)
  region = new Float64Array(64)
  next = new Float64Array(64)
  ensure(size: number): void {
    if (this.total.length >= size) return
    this.total = new Float64Array(size * 2)
    this.region = new Float64Array(size * 2)
    this.next = new Float64Array(size * 2)
  }
}

/** P(spot replicas lost within the window > `allowed`), for spot placed as `spotByZone`. */
export const probabilityLossExceeds = (
  spotByZone: ArrayLike<number>,
  model: LossModel,
  allowed: number,
  scratch: LossScratch = new LossScratch()
): number => {
  let placed = 0
  for (let z = 0; z < spotByZone.length; z++) placed += spotByZone[z] ?? 0
  if (placed <= allowed) return 0
  if (allowed < 0) return 1
  // Losses above `allowed` are merged into one state: only P(loss > allowed) is asked.
  const cap = Math.floor(allowed) + 1
  scratch.ensure(cap + 1)
  const total = scratch.total
  total.fill(0, 0, cap + 1)
  total[0] = 1
  for (let r = 0; r < model.regionProbability.length; r++) {
    const region = scratch.region
    region.fill(0, 0, cap + 1)
    region[0] = 1
    let inRegion = 0
    for (let z = 0; z < spotByZone.length; z++) {
      const count = spotByZone[z] ?? 0
      if (count <= 0 || model.regionOfZone[z] !== r) continue
      inRegion += count
      const p = model.zoneProbability[z] ?? 1
      for (let loss = cap; loss >= 0; loss--) {
        const mass = region[loss] ?? 0
        if (mass === 0) continue
        region[loss] = mass * (1 - p)
        const hit = Math.min(cap, loss + count)
        region[hit] = (region[hit] ?? 0) + mass * p
      }
    }
    if (inRegion === 0) continue
    const q = model.regionProbability[r] ?? 0
    for (let loss = 0; loss <= cap; loss++) region[loss] = (region[loss] ?? 0) * (1 - q)
    const all = Math.min(cap, inRegion)
    region[all] = (region[all] ?? 0) + q
    const next = scratch.next
    next.fill(0, 0, cap + 1)
    for (let a = 0; a <= cap; a++) {
      const left = total[a] ?? 0
      if (left === 0) continue
      for (let b = 0; b <= cap; b++) {
        const right = region[b] ?? 0
        if (right === 0) continue
        const at = Math.min(cap, a + b)
        next[at] = (next[at] ?? 0) + left * right
      }
    }
    total.set(next.subarray(0, cap + 1))
  }
  return total[cap] ?? 0
}
