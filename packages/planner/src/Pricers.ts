/**
 * One pricer per purchase option: each prices a (type, count) work item in one region with the arithmetic of
 * `PlacementCost.ts` and builds a candidate only when the enumeration's gate says the figures can matter.
 * Each returns the best candidate of its kind so far (commitments: per variant), which the enumeration keeps.
 */
import { spotRisk, type SpotRisk } from "@frugal/pricing"
import { better, type Candidate, makeCandidate, type Settings } from "./Candidate.ts"
import type { RegionOffers } from "./CatalogIndex.ts"
import { checkpointHours, commitmentCharge, type SpotRun, spotRun, spotServing, transferCostUsd } from "./PlacementCost.ts"
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
}

export type CandidateKind = "on-demand" | "spot" | "commitment"

/** How the enumeration decides which figures are worth a candidate object, and hears of every one built. */
export interface CandidateGate {
  readonly worthBuilding: (expectedHours: number, costUsd: number, best: Candidate | null, kind: CandidateKind) => boolean
  readonly built: (candidate: Candidate) => void
}

/** Checkpoint write hours of a work item (services do not checkpoint). */
export const writeHoursOf = (settings: Settings, item: Pick<WorkItem, "count">): number =>
  settings.perMonth ? 0 : checkpointHours(settings.workload, item.count.estimate, item.count.instances, settings.assumptions)

/** A spot placement's run: a job through its interruptions, or a service's replaced replicas. */
export const spotRunOf = (settings: Settings, hours: number, instances: number, risk: SpotRisk, writeHours: number): SpotRun =>
  settings.perMonth
    ? spotServing(hours, instances, risk)
    : spotRun(hours, instances, risk, writeHours, settings.assumptions.restartHours)

export const priceOnDemand = (settings: Settings, at: RegionPricing, best: Candidate | null, gate: CandidateGate): Candidate | null => {
  const { item, offers } = at
  if (offers.onDemandUsd === null) return best
  const { hours, instances } = item.count
  const compute = hours * instances * offers.onDemandUsd
  if (!gate.worthBuilding(hours, compute + at.chargedTransferUsd, best, "on-demand")) return best
  const candidate = makeCandidate(settings, {
    indexed: item.indexed,
    need: item.need,
    count: item.count,
    region: offers.region,
    zone: null,
    purchaseOption: "on-demand",
    commitment: null,
    hourlyUsd: offers.onDemandUsd,
    computeCostUsd: compute,
    transferCostUsd: at.transferUsd,
    spot: null,
    risk: null,
    charge: null,
    priceIsEstimate: offers.onDemandIsEstimate
  })
  gate.built(candidate)
  return better(candidate, best) ? candidate : best
}

export const priceSpot = (settings: Settings, at: RegionPricing, best: Candidate | null, gate: CandidateGate): Candidate | null => {
  const { item, offers } = at
  if (offers.spot.length === 0) return best
  const { hours, instances } = item.count
  const risk = spotRisk(offers.spotBucket, settings.exposureHours)
  const run = spotRunOf(settings, hours, instances, risk, at.writeHours)
  let bestSpot = best
  for (const zone of offers.spot) {
    const compute = run.expectedHours * instances * zone.hourlyUsd
    if (!gate.worthBuilding(run.expectedHours, compute + at.chargedTransferUsd, bestSpot, "spot")) continue
    const candidate = makeCandidate(settings, {
      indexed: item.indexed,
      need: item.need,
      count: item.count,
      region: offers.region,
      zone: zone.zone,
      purchaseOption: "spot",
      commitment: null,
      hourlyUsd: zone.hourlyUsd,
      computeCostUsd: compute,
      transferCostUsd: at.transferUsd,
      spot: run,
      risk,
      charge: null,
      priceIsEstimate: offers.spotIsEstimate
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
  const { item, offers } = at
  const { hours, instances } = item.count
  for (const commitment of offers.commitments) {
    if (!settings.purchase.has(commitment.purchaseOption)) continue
    const charge = commitmentCharge({
      hours,
      perMonth: settings.perMonth,
      instances,
      years: commitment.term.years,
      effectiveHourlyUsd: commitment.hourlyUsd,
      onDemandHourlyUsd: commitment.onDemandUsd
    })
    const best = bestByVariant[commitment.variant] ?? null
    if (!gate.worthBuilding(hours, charge.costUsd + at.chargedTransferUsd, best, "commitment")) continue
    const candidate = makeCandidate(settings, {
      indexed: item.indexed,
      need: item.need,
      count: item.count,
      region: offers.region,
      zone: null,
      purchaseOption: commitment.purchaseOption,
      commitment,
      hourlyUsd: commitment.hourlyUsd,
      computeCostUsd: charge.costUsd,
      transferCostUsd: at.transferUsd,
      spot: null,
      risk: null,
      charge,
      priceIsEstimate: commitment.priceIsEstimate
    })
    gate.built(candidate)
    if (better(candidate, best)) bestByVariant[commitment.variant] = candidate
  }
}

/**
 * For the recommendation's reason: how many zones offer spot for this type (within the allowed regions) and the
 * next cheapest after the chosen one, priced the same way.
 */
export const spotZoneStats = (
  candidate: Candidate,
  settings: Settings
): { readonly zones: number; readonly runnerUp: { readonly zone: string; readonly costUsd: number } | null } => {
  let zones = 0
  let runnerUp: { zone: string; costUsd: number } | null = null
  const writeHours = writeHoursOf(settings, { count: { instances: candidate.instances, gpus: candidate.gpus, estimate: candidate.estimate, hours: candidate.baseHours } })
  for (const offers of candidate.indexed.regions) {
    if (settings.regions !== null && !settings.regions.has(offers.region)) continue
    if (offers.spot.length === 0) continue
    const risk = spotRisk(offers.spotBucket, settings.exposureHours)
    const run = spotRunOf(settings, candidate.baseHours, candidate.instances, risk, writeHours)
    const transfer = settings.perMonth ? 0 : transferCostUsd(settings.workload, offers.region, settings.assumptions)
    for (const zone of offers.spot) {
      zones++
      if (zone.zone === candidate.zone && offers.region === candidate.region) continue
      const costUsd = run.expectedHours * candidate.instances * zone.hourlyUsd + transfer
      if (runnerUp === null || costUsd < runnerUp.costUsd) runnerUp = { zone: zone.zone, costUsd }
    }
  }
  return { zones, runnerUp }
}
