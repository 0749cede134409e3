/**
 * One pricer per purchase option: each prices a (type, count) work item in one region with the arithmetic of
 * `PlacementCost.ts` and builds a candidate only when the enumeration's gate says the figures can matter.
 * Each returns the best candidate of its kind so far (commitments: per variant), which the enumeration keeps.
 */
import { spotRisk, type SpotRisk, statedSpotRisk } from "@frugal/pricing"
import { gangInPool, ON_DEMAND_RETRY_HOURS, onDemandPool, spotBasis, spotOneInstance, type TypeUsage } from "./Capacity.ts"
import { better, type Candidate, type CandidateCapacity, isFeasible, makeCandidate, type Settings } from "./Candidate.ts"
import type { RegionOffers, ZoneOffer } from "./CatalogIndex.ts"
import {
  billedHours,
  checkpointHours,
  commitmentCharge,
  type LaunchTime,
  launchTime,
  type SpotProgress,
  spotProgress,
  type SpotRun,
  spotRunIn,
  spotServing,
  transferCostUsd
} from "./PlacementCost.ts"
import type { WorkItem } from "./WorkItems.ts"

/** One work item being priced in one region. */
export interface RegionPricing {
  readonly item: WorkItem
  readonly offers: RegionOffers
  /** Transfer of the workload's data into this region, USD. */
  readonly transferUsd: number
  /** What an option's cost includes of it: the transfer for a job, nothing for a service's month. */
  readonly chargedTransferUsd: number
  /** Hours to write one checkpoint of this placement (0 for a service). */
  readonly writeHours: number
  /** What an attempt spends before it trains in this region. */
  readonly launch: LaunchTime
  /** On-demand and committed capacity of the work item here (shared by their pricers). */
  readonly onDemandCapacity: CandidateCapacity
  /** The region's spot run (risk, progress), shared by its zones; null when spot is not priced here. */
  readonly spot: SpotRegion | null
  /** What the fleet already placed of this type (undefined when nothing, or not a fleet). */
  readonly typeUsage: TypeUsage | undefined
}

export type CandidateKind = "on-demand" | "spot" | "commitment"

/** How the enumeration decides which figures are worth a candidate object, and hears of every one built. */
export interface CandidateGate {
  readonly worthBuilding: (expectedHours: number, costUsd: number, best: Candidate | null, kind: CandidateKind) => boolean
  readonly built: (candidate: Candidate) => void
  /** A spot zone priced at AWS's floor with nothing known about it (whether or not it made a candidate). */
  readonly sawFloorPrice: () => void
  /** Whether no placement costing at least `costUsd` can enter the top list or improve a tracked best. */
  readonly cannotEnter: (costUsd: number) => boolean
}

/** Checkpoint write hours of a work item (services do not checkpoint). */
export const writeHoursOf = (settings: Settings, item: Pick<WorkItem, "count">): number =>
  settings.perMonth ? 0 : checkpointHours(settings.workload, item.count.estimate, item.count.instances, settings.assumptions)

const NO_LAUNCH: LaunchTime = { startHours: 0, dataHours: 0, modelHours: 0, relaunchHours: 0, firstLaunchHours: 0 }

// A launch depends on the workload and the region, and on the placement only through its checkpoint read: the
// region's part is computed once per plan (a plan prices the same regions for every work item). One plan's worth is
// kept: a fleet plans its members one after the other, and keeps their settings to the end.
let launchesFor: Settings | null = null
let launches = new Map<string, LaunchTime>()

/** What an attempt spends before it trains in this region (nothing for a service's month). */
export const launchOf = (settings: Settings, region: string, writeHours: number): LaunchTime => {
  if (settings.perMonth) return NO_LAUNCH
  if (launchesFor !== settings) {
    launchesFor = settings
    launches = new Map()
  }
  const byRegion = launches
  let base = byRegion.get(region)
  if (base === undefined) {
    base = launchTime(settings.workload, region, 0, settings.assumptions)
    byRegion.set(region, base)
  }
  return writeHours === 0 ? base : {
    startHours: base.startHours,
    dataHours: base.dataHours,
    modelHours: base.modelHours,
    relaunchHours: base.relaunchHours + writeHours,
    firstLaunchHours: base.firstLaunchHours
  }
}

/** What the work item costs on demand in a region (the saving each option is compared with), transfer excluded. */
export const onDemandComputeUsd = (settings: Settings, item: Pick<WorkItem, "count">, launch: LaunchTime, hourlyUsd: number): number =>
  (settings.perMonth ? item.count.hours : billedHours(item.count.hours, launch)) * item.count.instances * hourlyUsd

/** On-demand (and committed) capacity of the type in a region, for a gang of `instances`. */
export const onDemandCapacity = (settings: Settings, item: Pick<WorkItem, "indexed" | "count">, region: string | null): CandidateCapacity => {
  const used = region === null ? 0 : settings.poolUsage?.byType.get(item.indexed.type.name)?.onDemandByRegion.get(region) ?? 0
  const pool = onDemandPool(item.indexed)
  const availability = gangInPool(pool, item.count.instances, used)
  return {
    availability,
    basis: pool.basis,
    waitHours: availability > 0 ? (1 - availability) * ON_DEMAND_RETRY_HOURS : Number.POSITIVE_INFINITY,
    onDemandFallbackHours: null,
    onDemandFallbackUsd: null
  }
}

/** Hours of an on-demand or committed placement: launches and waits included (a service: its hours per month). */
const runHours = (settings: Settings, item: WorkItem, launch: LaunchTime, capacity: CandidateCapacity): { readonly billed: number; readonly wall: number } =>
  settings.perMonth
    ? { billed: item.count.hours, wall: item.count.hours }
    : { billed: billedHours(item.count.hours, launch), wall: billedHours(item.count.hours, launch) + capacity.waitHours }

export const priceOnDemand = (settings: Settings, at: RegionPricing, best: Candidate | null, gate: CandidateGate): Candidate | null => {
  const { item, offers, launch } = at
  if (offers.onDemandUsd === null) return best
  const capacity = at.onDemandCapacity
  if (!(capacity.availability > 0)) return best
  const hours = runHours(settings, item, launch, capacity)
  const compute = hours.billed * item.count.instances * offers.onDemandUsd
  if (!gate.worthBuilding(hours.wall, compute + at.chargedTransferUsd, best, "on-demand")) return best
  const candidate = makeCandidate(settings, {
    indexed: item.indexed,
    need: item.need,
    count: item.count,
    region: offers.region,
    zone: null,
    purchaseOption: "on-demand",
    commitment: null,
    hourlyUsd: offers.onDemandUsd,
    expectedHours: hours.wall,
    computeCostUsd: compute,
    transferCostUsd: at.transferUsd,
    spot: null,
    risk: null,
    charge: null,
    priceIsEstimate: offers.onDemandIsEstimate,
    capacity,
    launch: settings.perMonth ? null : launch
  })
  gate.built(candidate)
  return better(candidate, best) ? candidate : best
}

/**
 * What a spot run in a region shares across its zones: its risk (the rate its owner states, else its bucket's) and
 * spot's progress rate.
 */
export interface SpotRegion {
  readonly offers: RegionOffers
  readonly risk: SpotRisk
  readonly progress: SpotProgress
  readonly launch: LaunchTime
}

export const spotRegion = (settings: Settings, item: Pick<WorkItem, "count">, offers: RegionOffers, writeHours: number, launch: LaunchTime): SpotRegion => {
  const risk = offers.statedInterruptionsPerHour === null
    ? spotRisk(offers.spotBucket, settings.exposureHours)
    : statedSpotRisk(offers.statedInterruptionsPerHour, settings.exposureHours)
  return { offers, risk, progress: spotProgress(item.count.hours, item.count.instances, risk, writeHours, launch), launch }
}

/** The capacity a spot run reports. */
export const spotCapacity = (run: SpotRun): CandidateCapacity => ({
  availability: run.availability,
  basis: run.basis,
  waitHours: run.waitHours,
  onDemandFallbackHours: run.onDemandHours,
  onDemandFallbackUsd: run.onDemandFallbackUsd
})

/** One spot zone priced: the run through interruptions, waits and fallback, with the pool's capacity; null when the pool is full. */
export const priceSpotZone = (
  settings: Settings,
  item: Pick<WorkItem, "indexed" | "count">,
  region: SpotRegion,
  zone: ZoneOffer,
  typeUsage: TypeUsage | undefined
): SpotRun | null => {
  const { hours, instances } = item.count
  const { offers } = region
  // The region's on-demand price, else the type's cheapest anywhere (Infinity in the bounds when none).
  const reference = offers.fallbackOnDemandUsd ?? (Number.isFinite(item.indexed.bounds.minOnDemandUsd) ? item.indexed.bounds.minOnDemandUsd : null)
  const basis = spotBasis(item.indexed, offers.spotBucket, zone.placementScore, zone.hourlyUsd, reference)
  const used = typeUsage === undefined ? 0 : typeUsage.spotByZone.get(zone.zone) ?? 0
  const availability = gangInPool(
    { oneInstance: spotOneInstance(item.indexed, basis, offers.spotBucket, zone.placementScore), basis },
    instances,
    used
  )
  if (!(availability > 0)) return null
  return settings.perMonth
    ? spotServing(hours, instances, region.risk, zone.hourlyUsd, availability, offers.fallbackOnDemandUsd, basis)
    : spotRunIn({
      progress: region.progress,
      baseHours: hours,
      instances,
      launch: region.launch,
      availability,
      basis,
      deadlineHours: settings.deadlineHours,
      spotUsd: zone.hourlyUsd,
      onDemandUsd: offers.fallbackOnDemandUsd
    })
}

export const priceSpot = (settings: Settings, at: RegionPricing, best: Candidate | null, gate: CandidateGate): Candidate | null => {
  const { item, offers } = at
  if (offers.spot.length === 0) return best
  const region = at.spot ?? spotRegion(settings, item, offers, at.writeHours, at.launch)
  const onDemandReferenceUsd = offers.fallbackOnDemandUsd === null ? null : onDemandComputeUsd(settings, item, at.launch, offers.fallbackOnDemandUsd)
  let bestSpot = best
  const { hours, instances } = item.count
  for (const zone of offers.spot) {
    // Every hour of work is bought at the spot price or on the fallback: a bound that skips the full pricing when
    // it cannot beat this work item's best spot zone so far, nor enter the top list.
    if (!settings.perMonth) {
      const cheapest = offers.fallbackOnDemandUsd === null ? zone.hourlyUsd : Math.min(zone.hourlyUsd, offers.fallbackOnDemandUsd)
      const bound = hours * instances * cheapest + at.chargedTransferUsd
      if (bestSpot !== null && isFeasible(bestSpot) && bound > bestSpot.expectedCostUsd) continue
      if (gate.cannotEnter(bound)) continue
    }
    const run = priceSpotZone(settings, item, region, zone, at.typeUsage)
    if (run === null) continue
    if (run.basis === "suspicious-price") gate.sawFloorPrice()
    if (!gate.worthBuilding(run.expectedHours, run.costUsd + at.chargedTransferUsd, bestSpot, "spot")) continue
    const candidate = makeCandidate(settings, {
      indexed: item.indexed,
      need: item.need,
      count: item.count,
      region: offers.region,
      zone: zone.zone,
      purchaseOption: "spot",
      commitment: null,
      hourlyUsd: zone.hourlyUsd,
      expectedHours: run.expectedHours,
      computeCostUsd: run.costUsd,
      transferCostUsd: at.transferUsd,
      spot: run,
      risk: region.risk,
      charge: null,
      priceIsEstimate: offers.spotIsEstimate,
      capacity: spotCapacity(run),
      launch: settings.perMonth ? null : at.launch,
      onDemandReferenceUsd
    })
    gate.built(candidate)
    if (better(candidate, bestSpot)) bestSpot = candidate
  }
  return bestSpot
}

/** Prices every allowed commitment of the region, keeping the best per variant in `bestByVariant`. */
export const priceCommitments = (
  settings: Settings,
  at: RegionPricing,
  bestByVariant: Array<Candidate | null>,
  gate: CandidateGate
): void => {
  const { item, offers, launch } = at
  const { instances } = item.count
  if (offers.commitments.length === 0) return
  const capacity = at.onDemandCapacity
  if (!(capacity.availability > 0)) return
  const hours = runHours(settings, item, launch, capacity)
  for (const commitment of offers.commitments) {
    if (!settings.purchase.has(commitment.purchaseOption)) continue
    const charge = commitmentCharge({
      hours: hours.billed,
      perMonth: settings.perMonth,
      instances,
      years: commitment.term.years,
      effectiveHourlyUsd: commitment.hourlyUsd,
      onDemandHourlyUsd: commitment.onDemandUsd
    })
    const best = bestByVariant[commitment.variant] ?? null
    if (!gate.worthBuilding(hours.wall, charge.costUsd + at.chargedTransferUsd, best, "commitment")) continue
    const candidate = makeCandidate(settings, {
      indexed: item.indexed,
      need: item.need,
      count: item.count,
      region: offers.region,
      zone: null,
      purchaseOption: commitment.purchaseOption,
      commitment,
      hourlyUsd: commitment.hourlyUsd,
      expectedHours: hours.wall,
      computeCostUsd: charge.costUsd,
      transferCostUsd: at.transferUsd,
      spot: null,
      risk: null,
      charge,
      priceIsEstimate: commitment.priceIsEstimate,
      capacity,
      launch: settings.perMonth ? null : launch
    })
    gate.built(candidate)
    if (better(candidate, best)) bestByVariant[commitment.variant] = candidate
  }
}

/** A spot zone whose price is at AWS's floor, as the recommendation's reason names it. */
export interface FloorPricedZone {
  readonly zone: string
  readonly hourlyUsd: number
  /** Share under the on-demand price it was compared with. */
  readonly discount: number
  readonly obtainProbability: number
  readonly costUsd: number
}

/**
 * For the recommendation's reason: how many zones offer spot for this type (within the allowed regions), the next
 * cheapest after the chosen one, priced the same way, and the zones whose lower price was not trusted (at the floor,
 * nothing known about their capacity).
 */
export const spotZoneStats = (
  candidate: Candidate,
  settings: Settings
): {
  readonly zones: number
  readonly runnerUp: { readonly zone: string; readonly costUsd: number } | null
  readonly floorPriced: ReadonlyArray<FloorPricedZone>
} => {
  let zones = 0
  let runnerUp: { zone: string; costUsd: number } | null = null
  const floorPriced: Array<FloorPricedZone> = []
  const count = { instances: candidate.instances, gpus: candidate.gpus, estimate: candidate.estimate, hours: candidate.baseHours }
  const writeHours = writeHoursOf(settings, { count })
  for (const offers of candidate.indexed.regions) {
    if (settings.regions !== null && !settings.regions.has(offers.region)) continue
    if (offers.spot.length === 0) continue
    const transfer = settings.perMonth ? 0 : transferCostUsd(settings.workload, offers.region, settings.assumptions)
    const region = spotRegion(settings, { count }, offers, writeHours, launchOf(settings, offers.region, writeHours))
    for (const zone of offers.spot) {
      zones++
      if (zone.zone === candidate.zone && offers.region === candidate.region) continue
      // Zones whose hours all at their cheaper price cannot beat the runner-up so far are not priced in full, unless
      // their price is under the chosen zone's and might be one not trusted (at the floor).
      const cheapest = offers.fallbackOnDemandUsd === null ? zone.hourlyUsd : Math.min(zone.hourlyUsd, offers.fallbackOnDemandUsd)
      if (runnerUp !== null && candidate.baseHours * candidate.instances * cheapest + transfer > runnerUp.costUsd && zone.hourlyUsd >= candidate.hourlyUsd) continue
      const run = priceSpotZone(settings, { indexed: candidate.indexed, count }, region, zone, settings.poolUsage?.byType.get(candidate.indexed.type.name))
      if (run === null) continue
      const costUsd = run.costUsd + transfer
      if (runnerUp === null || costUsd < runnerUp.costUsd) runnerUp = { zone: zone.zone, costUsd }
      const reference = offers.fallbackOnDemandUsd ?? candidate.indexed.bounds.minOnDemandUsd
      if (run.basis === "suspicious-price" && zone.hourlyUsd < candidate.hourlyUsd) {
        floorPriced.push({
          zone: zone.zone,
          hourlyUsd: zone.hourlyUsd,
          discount: Number.isFinite(reference) && reference > 0 ? 1 - zone.hourlyUsd / reference : Number.NaN,
          obtainProbability: run.availability,
          costUsd
        })
      }
    }
  }
  floorPriced.sort((a, b) => a.hourlyUsd - b.hourlyUsd || (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0))
  return { zones, runnerUp, floorPriced }
}
