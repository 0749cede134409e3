/**
 * The work items of the enumeration: every (instance type, instance count) that holds the workload, with the
 * regional offers to scan and lower bounds on what any placement of it can cost. Sorted cheapest bound first, so
 * the top list fills early and the rest can be skipped on their bound alone. A type whose count can grow towards a
 * deadline carries its `CountSearch`, and `workItemFor` makes the items of the counts it asks for later.
 */
import { HOURS_PER_MONTH } from "@frugal/core"
import type { Count, Settings } from "./Candidate.ts"
import { type CatalogIndex, type IndexedType, mergeBounds, type PriceBounds, type RegionOffers } from "./CatalogIndex.ts"
import { FULL_NODE_FACTOR, gangProbability, type TypeUsage } from "./Capacity.ts"
import type { Diagnostics } from "./Diagnostics.ts"
import { type CountSearch, countSearch } from "./CountSearch.ts"
import { countLimit, instanceCounts, searchesCounts } from "./InstanceCounts.ts"
import type { AcceleratorNeed, Needs } from "./Requirements.ts"

export interface WorkItem {
  readonly indexed: IndexedType
  readonly need: AcceleratorNeed
  readonly count: Count
  readonly scan: ReadonlyArray<RegionOffers>
  /** No placement of this type and count costs less than this (hours × instances × its cheapest offer). */
  readonly bound: number
  readonly onDemandBound: number
  readonly commitmentBound: number
  /** What the items of another count of the type are made from. */
  readonly type: TypeWork
}

/** What every work item of one type shares: its offers to scan, their bounds, and its count search (if any). */
export interface TypeWork {
  readonly indexed: IndexedType
  readonly need: AcceleratorNeed
  readonly scan: ReadonlyArray<RegionOffers>
  readonly bounds: PriceBounds
  readonly allowOnDemand: boolean
  readonly allowSpot: boolean
  readonly allowCommitments: boolean
  /** Null when the type's count does not grow towards a deadline (no deadline, a pinned count, a service). */
  readonly search: CountSearch | null
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The work items of a workload, cheapest bound first. Types with nothing to scan in the allowed regions, or no
 * offer of an allowed purchase option, are counted in `diagnostics` (they name the binding constraint).
 */
export const workItems = (
  index: CatalogIndex,
  needs: Needs,
  settings: Settings,
  diagnostics: Diagnostics
): Array<WorkItem> => {
  const { workload, purchase, regions } = settings
  const allowOnDemand = purchase.has("on-demand")
  const allowSpot = purchase.has("spot") && settings.interruptible
  const regionList = regions === null ? null : [...regions].sort()
  const regionKey = regionList === null ? "" : regionList.join(",")
  const transferVaries = workload.data !== undefined && workload.data.sizeGB > 0

  const work: Array<WorkItem> = []
  for (const indexed of index.types) {
    if (indexed.spec === null) continue
    if (settings.instanceTypes !== null && !settings.instanceTypes.has(indexed.type.name)) continue
    const need = needs.byAccelerator.get(indexed.spec.name)
    if (need === undefined) continue
    const counts = instanceCounts(indexed, need, settings)
    if (counts.length === 0) continue

    // Which offers to scan: every allowed region, or (no region filter, no transfer, no pool of the type filled by
    // the fleet yet) the few that can win.
    const used = settings.poolUsage?.byType.get(indexed.type.name)
    const { scan, bounds } = regionList !== null
      ? regionScan(indexed, regionList, regionKey)
      : { scan: transferVaries ? indexed.regions : used === undefined ? indexed.bestOffers : fleetScan(indexed, used), bounds: indexed.bounds }
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
    const type: TypeWork = {
      indexed,
      need,
      scan,
      bounds,
      allowOnDemand,
      allowSpot,
      allowCommitments: purchase.has("reserved") || purchase.has("savings-plan"),
      search: searchesCounts(indexed, need, settings) ? countSearch(countLimit(indexed), counts.map((count) => count.instances)) : null
    }
    for (const count of counts) work.push(workItemFor(settings, type, count))
  }
  work.sort(compareWorkItems)
  return work
}

/** Cheapest bound first, then a stable order of names and counts. */
export const compareWorkItems = (a: WorkItem, b: WorkItem): number =>
  a.bound - b.bound || byString(a.indexed.type.name, b.indexed.type.name) || a.count.instances - b.count.instances

/** The work item of one count of a type, with its lower bounds. */
export const workItemFor = (settings: Settings, type: TypeWork, count: Count): WorkItem => {
  const { indexed, bounds } = type
  const onDemandBound = onDemandLowerBound(settings, count, bounds)
  const commitmentBound = count.instances * (settings.perMonth
    ? HOURS_PER_MONTH * bounds.minCommitmentHourlyUsd
    : Math.max(count.hours * bounds.minCommitmentHourlyUsd, bounds.minCommitmentTermUsd))
  return {
    indexed,
    need: type.need,
    count,
    scan: type.scan,
    bound: Math.min(
      type.allowOnDemand ? onDemandBound : Number.POSITIVE_INFINITY,
      type.allowSpot ? spotLowerBound(settings, indexed, count, bounds) : Number.POSITIVE_INFINITY,
      type.allowCommitments ? commitmentBound : Number.POSITIVE_INFINITY
    ),
    onDemandBound,
    commitmentBound,
    type
  }
}

/** No on-demand placement of the work item costs less: every hour, and the first launch, at the lowest price. */
const onDemandLowerBound = (settings: Settings, count: Count, bounds: PriceBounds): number =>
  count.instances * (count.hours + (settings.perMonth ? 0 : settings.assumptions.restartHours)) * bounds.minOnDemandUsd

/**
 * No spot placement of the work item costs less. Each hour of work and of the first launch is bought at a spot price
 * or on the on-demand fallback, so at least at the lower of the two (m). With a deadline and a fallback everywhere,
 * the policy runs on demand at least what spot cannot do even in the best pool: capacity a at most the best
 * one-instance chance for the gang, spot progress at most one hour of work per hour, so X ≥ C − a·(R − launch) (the
 * fluid shortfall, which Jensen's inequality puts under the expected one), and those hours cost the fallback's price.
 */
const spotLowerBound = (settings: Settings, indexed: IndexedType, count: Count, bounds: PriceBounds): number => {
  if (!Number.isFinite(bounds.minSpotUsd)) return Number.POSITIVE_INFINITY
  const restart = settings.perMonth ? 0 : settings.assumptions.restartHours
  const m = Math.min(bounds.minSpotUsd, bounds.minSpotFallbackUsd)
  const hours = count.hours
  let fallback = 0
  if (!settings.perMonth && settings.deadlineHours !== null && bounds.spotFallbackEverywhere && Number.isFinite(bounds.minSpotFallbackUsd)) {
    const oneInstance = Math.min(1, bounds.maxSpotOneInstance * (indexed.fullNode && indexed.type.acceleratorCount >= 8 ? FULL_NODE_FACTOR : 1))
    const availability = gangProbability(oneInstance, count.instances)
    fallback = Math.max(0, hours - availability * Math.max(0, settings.deadlineHours - restart))
  }
  return count.instances * ((hours + restart) * m + fallback * (bounds.minSpotFallbackUsd - m))
}

/**
 * The all-regions shortcut for a type the fleet already placed somewhere: on-demand and commitments as usual, and in
 * each group of spot zones (`IndexedType.spotByKind`, cheapest first) only the zones the fleet has used less than
 * every cheaper zone of the group, up to the first it has not used: any other zone is dearer and no emptier than
 * one already scanned.
 */
const fleetScan = (indexed: IndexedType, used: TypeUsage): ReadonlyArray<RegionOffers> => {
  const cached = fleetScans.get(used)
  if (cached !== undefined && cached.version === used.version) return cached.scan
  const scan: Array<RegionOffers> = [...indexed.bestNonSpotOffers]
  for (const group of indexed.spotByKind) {
    let least = Number.POSITIVE_INFINITY
    // A fleet large enough to have used every zone looks at the cheapest few of each group only.
    for (let i = 0; i < group.length && i < FLEET_SPOT_ZONES_SCANNED; i++) {
      const entry = group[i]
      if (entry === undefined) break
      const zone = entry.spot[0]
      const instances = zone === undefined ? 0 : used.spotByZone.get(zone.zone) ?? 0
      if (instances >= least) continue
      scan.push(entry)
      least = instances
      if (instances === 0) break
    }
  }
  fleetScans.set(used, { version: used.version, scan })
  return scan
}

// A fleet asks for the same type's scan for every work item of every member: kept until the type's usage changes.
const fleetScans = new WeakMap<TypeUsage, { readonly version: number; readonly scan: ReadonlyArray<RegionOffers> }>()

const FLEET_SPOT_ZONES_SCANNED = 8

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
