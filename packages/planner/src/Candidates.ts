/**
 * The enumeration at the heart of `plan`: instance type × instance count × region × AZ × purchase option, priced
 * with `Placement` and reduced as it goes to the best region/AZ per (instance type, count, purchase option, term),
 * so one workload against the whole catalog touches each offer at most once and builds a few dozen candidates.
 */
import { HOURS_PER_MONTH } from "@frugal/core"
import { spotRisk } from "@frugal/pricing"
import { better, type Candidate, type Count, insertTop, makeCandidate, type Settings } from "./Candidate.ts"
import { type CatalogIndex, type IndexedType, mergeBounds, type PriceBounds, type RegionOffers } from "./CatalogIndex.ts"
import { instanceCounts } from "./InstanceCounts.ts"
import { checkpointHours, commitmentCharge, spotRun, spotServing, transferCostUsd } from "./Placement.ts"
import type { AcceleratorNeed, Needs } from "./Requirements.ts"
import { toleratesLoneSpot } from "./ServicePlacementRule.ts"

export { type Candidate, compareCandidates, PURCHASE_ORDER, type Settings } from "./Candidate.ts"

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** What the enumeration saw, for naming the binding constraint when nothing is feasible. */
export interface Diagnostics {
  candidates: number
  fastest: Candidate | null
  cheapest: Candidate | null
  cheapestMeetingDeadline: Candidate | null
  /** Types that could hold the workload but have no offer in the allowed regions. */
  regionFiltered: number
  /** Types that could hold the workload but had no offer left after the purchase-option filter (incl. interruptible). */
  purchaseFiltered: number
  /** Of those, types with spot offers only that `interruptible: false` excluded. */
  spotOnlyExcluded: number
  /** The best on-demand placement and the best commitment, whether or not they made the top list. */
  bestOnDemand: Candidate | null
  bestCommitment: Candidate | null
  /** (type, count) pairs skipped because their lower bound could not enter the top list. */
  pruned: number
}

/**
 * Prices every placement of the workload and returns the best `limit` (one per type, count, purchase option and
 * term: its cheapest region and AZ), ranked, plus diagnostics.
 */
export const enumerateCandidates = (
  index: CatalogIndex,
  needs: Needs,
  settings: Settings,
  limit: number
): { readonly top: ReadonlyArray<Candidate>; readonly diagnostics: Diagnostics } => {
  const { workload, assumptions, purchase, regions } = settings
  const allowOnDemand = purchase.has("on-demand")
  const allowSpot = purchase.has("spot") && settings.interruptible && toleratesLoneSpot(workload)
  const allowReserved = purchase.has("reserved")
  const allowSavingsPlan = purchase.has("savings-plan")
  const top: Array<Candidate> = []
  const diagnostics: Diagnostics = {
    candidates: 0,
    fastest: null,
    cheapest: null,
    cheapestMeetingDeadline: null,
    regionFiltered: 0,
    purchaseFiltered: 0,
    spotOnlyExcluded: 0,
    bestOnDemand: null,
    bestCommitment: null,
    pruned: 0
  }
  const regionList = regions === null ? null : [...regions].sort()
  const regionKey = regionList === null ? "" : regionList.join(",")
  const bestByVariant: Array<Candidate | null> = new Array<Candidate | null>(index.variants.length).fill(null)

  const consider = (candidate: Candidate): void => {
    if (diagnostics.fastest === null || candidate.expectedHours < diagnostics.fastest.expectedHours) diagnostics.fastest = candidate
    if (diagnostics.cheapest === null || candidate.expectedCostUsd < diagnostics.cheapest.expectedCostUsd) diagnostics.cheapest = candidate
    if (candidate.meetsDeadline &&
      (diagnostics.cheapestMeetingDeadline === null || candidate.expectedCostUsd < diagnostics.cheapestMeetingDeadline.expectedCostUsd)) {
      diagnostics.cheapestMeetingDeadline = candidate
    }
  }
  /**
   * Whether a placement with these figures is worth building as an object: it could beat the best of its kind
   * for this (type, count), and then enter the top list or improve a tracked best; while nothing feasible is known
   * yet, also whenever it improves the diagnostics that name the binding constraint. Skipping the rest keeps a
   * plan's allocations to a few dozen objects. Ties go through (the full comparison settles them).
   */
  const worthBuilding = (expectedHours: number, costUsd: number, best: Candidate | null, kind: "on-demand" | "spot" | "commitment"): boolean => {
    diagnostics.candidates++
    const meets = settings.perMonth || settings.deadlineHours === null || expectedHours <= settings.deadlineHours
    const feasible = meets && (settings.budgetUsd === null || costUsd <= settings.budgetUsd)
    const first = top[0]
    if (first === undefined || !(first.meetsDeadline && first.withinBudget)) {
      const { fastest, cheapest, cheapestMeetingDeadline } = diagnostics
      if (fastest === null || expectedHours < fastest.expectedHours) return true
      if (cheapest === null || costUsd < cheapest.expectedCostUsd) return true
      if (meets && (cheapestMeetingDeadline === null || costUsd < cheapestMeetingDeadline.expectedCostUsd)) return true
    }
    if (best !== null) {
      const bestFeasible = best.meetsDeadline && best.withinBudget
      if (feasible !== bestFeasible) {
        if (!feasible) return false
      } else if (costUsd > best.expectedCostUsd) {
        return false
      }
    }
    const last = top[top.length - 1]
    if (top.length < limit || last === undefined || !(last.meetsDeadline && last.withinBudget)) return true
    if (feasible && costUsd <= last.expectedCostUsd) return true
    if (kind === "on-demand" && settings.trackOnDemand) {
      const tracked = diagnostics.bestOnDemand
      if (tracked === null || (feasible && costUsd <= tracked.expectedCostUsd)) return true
    }
    if (kind === "commitment") {
      const tracked = diagnostics.bestCommitment
      if (tracked === null || costUsd <= tracked.expectedCostUsd) return true
    }
    return false
  }

  const transferVaries = workload.data !== undefined && workload.data.sizeGB > 0
  const commitmentsAllowed = allowReserved || allowSavingsPlan

  // 1. Every (type, count) that holds the workload, with the offers to scan and a lower bound on its cost.
  const work: Array<Work> = []
  for (const indexed of index.types) {
    if (indexed.spec === null) continue
    if (settings.instanceTypes !== null && !settings.instanceTypes.has(indexed.type.name)) continue
    const need = needs.byAccelerator.get(indexed.spec.name)
    if (need === undefined) continue
    const counts = instanceCounts(indexed, need, settings)
    if (counts.length === 0) continue

    // Which offers to scan: every allowed region, or (no region filter, no transfer) the few that can win.
    const { scan, bounds } = regionList !== null
      ? regionScan(indexed, regionList, regionKey)
      : { scan: transferVaries ? indexed.regions : indexed.bestOffers, bounds: indexed.bounds }
    if (scan.length === 0) {
      diagnostics.regionFiltered++
      continue
    }
    const purchasable = scan.some((offers) =>
      (allowOnDemand && offers.onDemandUsd !== null) || (allowSpot && offers.spot.length > 0) ||
      offers.commitments.some((c) => purchase.has(c.purchaseOption))
    )
    if (!purchasable) {
      diagnostics.purchaseFiltered++
      const spotOnly = scan.some((o) => o.spot.length > 0) && !scan.some((o) => o.onDemandUsd !== null || o.commitments.length > 0)
      if (spotOnly && !settings.interruptible) diagnostics.spotOnlyExcluded++
      continue
    }
    for (const count of counts) {
      const instanceHours = count.hours * count.instances
      work.push({
        indexed,
        need,
        count,
        scan,
        bound: instanceHours * bounds.minHourlyUsd,
        onDemandBound: instanceHours * bounds.minOnDemandUsd,
        commitmentBound: count.instances * (settings.perMonth
          ? HOURS_PER_MONTH * bounds.minCommitmentHourlyUsd
          : Math.max(count.hours * bounds.minCommitmentHourlyUsd, bounds.minCommitmentTermUsd))
      })
    }
  }

  // 2. Cheapest bound first, so that the top list fills early and the rest can be skipped on their bound alone.
  work.sort((a, b) =>
    a.bound - b.bound || byString(a.indexed.type.name, b.indexed.type.name) || a.count.instances - b.count.instances
  )

  /**
   * A (type, count) whose cheapest conceivable cost is above the last of a full, feasible top list cannot enter it;
   * it is skipped unless it could still improve the best on-demand (fleets) or best commitment (reasons).
   */
  const prunable = (item: Work): boolean => {
    const last = top[top.length - 1]
    if (top.length < limit || last === undefined || !(last.meetsDeadline && last.withinBudget)) return false
    if (!(item.bound > last.expectedCostUsd)) return false
    if (settings.trackOnDemand && allowOnDemand) {
      const best = diagnostics.bestOnDemand
      if (best === null || !(best.meetsDeadline && best.withinBudget) || !(item.onDemandBound > best.expectedCostUsd)) return false
    }
    if (commitmentsAllowed && Number.isFinite(item.commitmentBound)) {
      const best = diagnostics.bestCommitment
      if (best === null || !(item.commitmentBound > best.expectedCostUsd)) return false
    }
    return true
  }

  // 3. Price each remaining (type, count) in its regions and zones, keeping the best per purchase option and term.
  for (const item of work) {
    if (prunable(item)) {
      diagnostics.pruned++
      continue
    }
    const { indexed, need, count, scan } = item
    const { instances, estimate, hours } = count
    const writeHours = settings.perMonth ? 0 : checkpointHours(workload, estimate, instances, assumptions)
    let bestOnDemand: Candidate | null = null
    let bestSpot: Candidate | null = null
    let cheapestOnDemand: { region: string; costUsd: number } | null = null
    bestByVariant.fill(null)

    for (const offers of scan) {
      const transfer = transferVaries ? transferCostUsd(workload, offers.region, assumptions) : 0
      const chargedTransfer = settings.perMonth ? 0 : transfer

      if (offers.onDemandUsd !== null) {
        const compute = hours * instances * offers.onDemandUsd
        if (cheapestOnDemand === null || compute + chargedTransfer < cheapestOnDemand.costUsd) {
          cheapestOnDemand = { region: offers.region, costUsd: compute + chargedTransfer }
        }
        if (allowOnDemand && worthBuilding(hours, compute + chargedTransfer, bestOnDemand, "on-demand")) {
          const candidate = makeCandidate(settings, indexed, need, count, offers.region, null, "on-demand", null, offers.onDemandUsd,
            hours, compute, transfer, null, null, null, offers.onDemandIsEstimate)
          consider(candidate)
          if (better(candidate, bestOnDemand)) bestOnDemand = candidate
        }
      }

      if (allowSpot && offers.spot.length > 0) {
        const risk = spotRisk(offers.spotBucket, settings.exposureHours)
        const run = settings.perMonth
          ? spotServing(hours, instances, risk)
          : spotRun(hours, instances, risk, writeHours, assumptions.restartHours)
        for (const zone of offers.spot) {
          const compute = run.expectedHours * instances * zone.hourlyUsd
          if (!worthBuilding(run.expectedHours, compute + chargedTransfer, bestSpot, "spot")) continue
          const candidate = makeCandidate(settings, indexed, need, count, offers.region, zone.zone, "spot", null, zone.hourlyUsd,
            hours, compute, transfer, run, risk, null, offers.spotIsEstimate)
          consider(candidate)
          if (better(candidate, bestSpot)) bestSpot = candidate
        }
      }

      if (commitmentsAllowed) {
        for (const commitment of offers.commitments) {
          if (!purchase.has(commitment.purchaseOption)) continue
          const charge = commitmentCharge({
            hours,
            perMonth: settings.perMonth,
            instances,
            years: commitment.term.years,
            effectiveHourlyUsd: commitment.hourlyUsd,
            onDemandHourlyUsd: commitment.onDemandUsd
          })
          if (!worthBuilding(hours, charge.costUsd + chargedTransfer, bestByVariant[commitment.variant] ?? null, "commitment")) continue
          const candidate = makeCandidate(settings, indexed, need, count, offers.region, null, commitment.purchaseOption, commitment,
            commitment.hourlyUsd, hours, charge.costUsd, transfer, null, null, charge, commitment.priceIsEstimate)
          consider(candidate)
          if (better(candidate, bestByVariant[commitment.variant] ?? null)) bestByVariant[commitment.variant] = candidate
        }
      }
    }

    const finish = (candidate: Candidate | null): void => {
      if (candidate === null) return
      const sameRegion = indexed.regionByName.get(candidate.region)?.onDemandUsd ?? null
      if (sameRegion !== null) {
        candidate.onDemandCostUsd = hours * instances * sameRegion + (settings.perMonth ? 0 : candidate.transferCostUsd)
        candidate.onDemandRegion = candidate.region
      } else if (cheapestOnDemand !== null) {
        candidate.onDemandCostUsd = cheapestOnDemand.costUsd
        candidate.onDemandRegion = cheapestOnDemand.region
      }
      insertTop(top, candidate, limit)
      if (candidate.purchaseOption === "on-demand") {
        if (better(candidate, diagnostics.bestOnDemand)) diagnostics.bestOnDemand = candidate
      } else if (candidate.purchaseOption !== "spot" && better(candidate, diagnostics.bestCommitment)) {
        diagnostics.bestCommitment = candidate
      }
    }
    finish(bestOnDemand)
    finish(bestSpot)
    for (const candidate of bestByVariant) finish(candidate)
  }
  return { top, diagnostics }
}

const regionScans = new WeakMap<IndexedType, Map<string, { readonly scan: ReadonlyArray<RegionOffers>; readonly bounds: PriceBounds }>>()

/** A type's offers in the allowed regions (sorted) and their bounds, cached per type and region set. */
const regionScan = (
  indexed: IndexedType,
  regionList: ReadonlyArray<string>,
  key: string
): { readonly scan: ReadonlyArray<RegionOffers>; readonly bounds: PriceBounds } => {
  let byKey = regionScans.get(indexed)
  if (byKey === undefined) {
    byKey = new Map()
    regionScans.set(indexed, byKey)
  }
  let found = byKey.get(key)
  if (found === undefined) {
    const scan: Array<RegionOffers> = []
    for (const region of regionList) {
      const offers = indexed.regionByName.get(region)
      if (offers !== undefined) scan.push(offers)
    }
    found = { scan, bounds: mergeBounds(scan.map((r) => r.bounds)) }
    byKey.set(key, found)
  }
  return found
}

interface Work {
  readonly indexed: IndexedType
  readonly need: AcceleratorNeed
  readonly count: Count
  readonly scan: ReadonlyArray<RegionOffers>
  /** No placement of this type and count costs less than this (hours × instances × its cheapest offer). */
  readonly bound: number
  readonly onDemandBound: number
  readonly commitmentBound: number
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
  const writeHours = settings.perMonth ? 0 : checkpointHours(settings.workload, candidate.estimate, candidate.instances, settings.assumptions)
  for (const offers of candidate.indexed.regions) {
    if (settings.regions !== null && !settings.regions.has(offers.region)) continue
    if (offers.spot.length === 0) continue
    const risk = spotRisk(offers.spotBucket, settings.exposureHours)
    const run = settings.perMonth
      ? spotServing(candidate.baseHours, candidate.instances, risk)
      : spotRun(candidate.baseHours, candidate.instances, risk, writeHours, settings.assumptions.restartHours)
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
