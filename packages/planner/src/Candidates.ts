/**
 * The enumeration at the heart of `plan`: instance type × instance count × region × AZ × purchase option, reduced
 * as it goes to the best region/AZ per (instance type, count, purchase option, term), so one workload against the
 * whole catalog touches each offer at most once and builds a few dozen candidates. The parts: `WorkItems` (what to
 * price, cheapest bound first), `Pricers` (one per purchase option), `TopCandidates` (the top-k accumulator) and
 * `Diagnostics` (what names the binding constraint when nothing is feasible). Counts of a type are added as
 * pricing shows whether they meet the deadline (`CountSearch`).
 */
import { better, type Candidate, isFeasible, type Settings } from "./Candidate.ts"
import { type Diagnostics, emptyDiagnostics, observe } from "./Diagnostics.ts"
import { transferCostUsd } from "./PlacementCost.ts"
import {
  type CandidateGate,
  type CandidateKind,
  launchOf,
  onDemandCapacity,
  onDemandComputeUsd,
  priceCommitments,
  priceOnDemand,
  priceSpot,
  type RegionPricing,
  type SpotRegion,
  spotRegion,
  writeHoursOf
} from "./Pricers.ts"
import type { LaunchTime } from "./PlacementCost.ts"
import type { Needs } from "./Requirements.ts"
import { TopCandidates } from "./TopCandidates.ts"
import type { CatalogIndex } from "./CatalogIndex.ts"
import { compareWorkItems, type WorkItem, workItemFor, workItems } from "./WorkItems.ts"
import { nextCount } from "./CountSearch.ts"
import { countOf } from "./InstanceCounts.ts"
import { toleratesLoneSpot } from "./ServicePlacementRule.ts"

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
  const { workload, assumptions, purchase } = settings
  const allowOnDemand = purchase.has("on-demand")
  const allowSpot = purchase.has("spot") && settings.interruptible && toleratesLoneSpot(workload)
  const commitmentsAllowed = purchase.has("reserved") || purchase.has("savings-plan")
  const top = new TopCandidates(limit)
  const diagnostics = emptyDiagnostics()
  const bestByVariant: Array<Candidate | null> = new Array<Candidate | null>(index.variants.length).fill(null)
  // Whether the item being priced had a placement priced at all, and one that meets the deadline (CountSearch).
  let itemPriced = false
  let itemMet = false
  const gate: CandidateGate = {
    worthBuilding: (expectedHours, costUsd, best, kind) => {
      itemPriced = true
      if (settings.deadlineHours !== null && expectedHours <= settings.deadlineHours) itemMet = true
      return worthBuilding(settings, top, diagnostics, expectedHours, costUsd, best, kind)
    },
    built: (candidate) => observe(diagnostics, candidate),
    sawFloorPrice: () => {
      diagnostics.floorPricedZones++
    },
    cannotEnter: (costUsd) => {
      const last = top.last
      if (!(top.closed && last !== undefined && costUsd > last.expectedCostUsd)) return false
      diagnostics.spotAboveTopList = true
      return true
    }
  }
  const transferVaries = workload.data !== undefined && workload.data.sizeGB > 0
  // Per region, for the work item being priced (stamped with the item's number, so nothing is cleared).
  const launches: Array<LaunchTime | undefined> = new Array<LaunchTime | undefined>(index.regions.length)
  const spotRegions: Array<SpotRegion | undefined> = new Array<SpotRegion | undefined>(index.regions.length)
  const stamps = new Int32Array(index.regions.length).fill(-1)
  let itemNumber = 0

  const queue = workItems(index, needs, settings, diagnostics)
  for (let next = 0; next < queue.length; next++) {
    const item = queue[next]
    if (item === undefined) break
    if (prunable(settings, top, diagnostics, item, allowOnDemand, commitmentsAllowed)) {
      diagnostics.pruned++
      searchOn(settings, queue, next, item, "unknown")
      continue
    }
    itemPriced = false
    itemMet = false
    const { indexed } = item
    const writeHours = writeHoursOf(settings, item)
    let bestOnDemand: Candidate | null = null
    let bestSpot: Candidate | null = null
    let cheapestOnDemand: { region: string; costUsd: number } | null = null
    bestByVariant.fill(null)

    // On-demand capacity is the same in every region the fleet has not used this type in; a launch and a spot
    // run's progress are the same for every entry of a region (the shortcuts list a region once per zone).
    const typeUsage = settings.poolUsage?.byType.get(indexed.type.name)
    const regionsUsed = typeUsage?.onDemandByRegion
    const freshCapacity = onDemandCapacity(settings, item, null)
    itemNumber++
    for (const offers of item.scan) {
      const transferUsd = transferVaries ? transferCostUsd(workload, offers.region, assumptions) : 0
      const id = offers.regionId
      if (stamps[id] !== itemNumber) {
        stamps[id] = itemNumber
        launches[id] = undefined
        spotRegions[id] = undefined
      }
      let launch = launches[id]
      if (launch === undefined) {
        launch = launchOf(settings, offers.region, writeHours)
        launches[id] = launch
      }
      let spot: SpotRegion | null = null
      if (allowSpot && offers.spot.length > 0) {
        spot = spotRegions[id] ?? null
        if (spot === null || spot.offers.fallbackOnDemandUsd !== offers.fallbackOnDemandUsd) {
          spot = spotRegion(settings, item, offers, writeHours, launch)
          spotRegions[id] = spot
        }
      }
      const at: RegionPricing = {
        item,
        offers,
        transferUsd,
        chargedTransferUsd: settings.perMonth ? 0 : transferUsd,
        writeHours,
        launch,
        onDemandCapacity: regionsUsed?.has(offers.region) === true ? onDemandCapacity(settings, item, offers.region) : freshCapacity,
        spot,
        typeUsage
      }
      if (offers.onDemandUsd !== null) {
        const costUsd = onDemandComputeUsd(settings, item, at.launch, offers.onDemandUsd) + at.chargedTransferUsd
        if (cheapestOnDemand === null || costUsd < cheapestOnDemand.costUsd) cheapestOnDemand = { region: offers.region, costUsd }
      }
      if (allowOnDemand) bestOnDemand = priceOnDemand(settings, at, bestOnDemand, gate)
      if (allowSpot) bestSpot = priceSpot(settings, at, bestSpot, gate)
      if (commitmentsAllowed) priceCommitments(settings, at, bestByVariant, gate)
    }

    const finish = (candidate: Candidate | null): void => {
      if (candidate === null) return
      const sameRegion = indexed.regionByName.get(candidate.region)?.onDemandUsd ?? null
      if (sameRegion !== null) {
        candidate.onDemandCostUsd = onDemandComputeUsd(settings, item, launchOf(settings, candidate.region, writeHours), sameRegion) +
          (settings.perMonth ? 0 : candidate.transferCostUsd)
        candidate.onDemandRegion = candidate.region
      } else if (cheapestOnDemand !== null) {
        candidate.onDemandCostUsd = cheapestOnDemand.costUsd
        candidate.onDemandRegion = cheapestOnDemand.region
      }
      top.insert(candidate)
      if (candidate.purchaseOption === "on-demand") {
        if (better(candidate, diagnostics.bestOnDemand)) diagnostics.bestOnDemand = candidate
      } else if (candidate.purchaseOption === "spot") {
        if (better(candidate, diagnostics.bestSpot)) diagnostics.bestSpot = candidate
      } else if (better(candidate, diagnostics.bestCommitment)) {
        diagnostics.bestCommitment = candidate
      }
    }
    finish(bestOnDemand)
    finish(bestSpot)
    for (const candidate of bestByVariant) finish(candidate)
    searchOn(settings, queue, next, item, !itemPriced ? "unknown" : itemMet ? "met" : "missed")
  }
  return { top: top.ranked, diagnostics }
}

/**
 * Records what pricing `item` showed in its type's count search and queues the count the search asks for next
 * (if any) among the items after `position`, in bound order.
 */
const searchOn = (settings: Settings, queue: Array<WorkItem>, position: number, item: WorkItem, outcome: "met" | "missed" | "unknown"): void => {
  const search = item.type.search
  if (search === null) return
  search.outcomes.set(item.count.instances, outcome)
  let instances = nextCount(search)
  while (instances !== null) {
    const count = countOf(item.indexed, item.need, instances)
    if (count !== null) {
      search.outcomes.set(instances, "pending")
      const added = workItemFor(settings, item.type, count)
      let lo = position + 1
      let hi = queue.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        const other = queue[mid]
        if (other !== undefined && compareWorkItems(other, added) <= 0) lo = mid + 1
        else hi = mid
      }
      queue.splice(lo, 0, added)
      return
    }
    // The workload does not fit on that many (a memory estimate that grows with the count): no further that way.
    search.outcomes.set(instances, "unknown")
    instances = nextCount(search)
  }
}

/**
 * Whether a placement with these figures is worth building as an object: it could beat the best of its kind for
 * this (type, count), and then enter the top list or improve a tracked best; while nothing feasible is known yet,
 * also whenever it improves the diagnostics that name the binding constraint. Skipping the rest keeps a plan's
 * allocations to a few dozen objects. Ties go through (the full comparison settles them). Counts every placement
 * priced.
 */
const worthBuilding = (
  settings: Settings,
  top: TopCandidates,
  diagnostics: Diagnostics,
  expectedHours: number,
  costUsd: number,
  best: Candidate | null,
  kind: CandidateKind
): boolean => {
  diagnostics.candidates++
  const meets = settings.perMonth || settings.deadlineHours === null || expectedHours <= settings.deadlineHours
  const feasible = meets && (settings.budgetUsd === null || costUsd <= settings.budgetUsd)
  if (!top.hasFeasible) {
    const { fastest, cheapest, cheapestMeetingDeadline } = diagnostics
    if (fastest === null || expectedHours < fastest.expectedHours) return true
    if (cheapest === null || costUsd < cheapest.expectedCostUsd) return true
    if (meets && (cheapestMeetingDeadline === null || costUsd < cheapestMeetingDeadline.expectedCostUsd)) return true
  }
  if (best !== null) {
    const bestFeasible = isFeasible(best)
    if (feasible !== bestFeasible) {
      if (!feasible) return false
    } else if (costUsd > best.expectedCostUsd) {
      return false
    }
  }
  const last = top.last
  if (!top.closed || last === undefined) return true
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

/**
 * A work item whose cheapest conceivable cost is above the last of a closed top list cannot enter it; it is
 * skipped unless it could still improve the best on-demand (fleets) or best commitment (reasons).
 */
const prunable = (
  settings: Settings,
  top: TopCandidates,
  diagnostics: Diagnostics,
  item: WorkItem,
  allowOnDemand: boolean,
  commitmentsAllowed: boolean
): boolean => {
  const last = top.last
  if (!top.closed || last === undefined) return false
  if (!(item.bound > last.expectedCostUsd)) return false
  if (settings.trackOnDemand && allowOnDemand) {
    const best = diagnostics.bestOnDemand
    if (best === null || !isFeasible(best) || !(item.onDemandBound > best.expectedCostUsd)) return false
  }
  if (commitmentsAllowed && Number.isFinite(item.commitmentBound)) {
    const best = diagnostics.bestCommitment
    if (best === null || !(item.commitmentBound > best.expectedCostUsd)) return false
  }
  return true
}
