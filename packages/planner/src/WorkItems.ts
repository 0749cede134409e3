/**
 * The work items of the enumeration: every (instance type, instance count) that holds the workload, with the
 * regional offers to scan and lower bounds on what any placement of it can cost. Sorted cheapest bound first, so
 * the top list fills early and the rest can be skipped on their bound alone.
 */
import { HOURS_PER_MONTH } from "@frugal/core"
import type { Count, Settings } from "./Candidate.ts"
import { type CatalogIndex, type IndexedType, mergeBounds, type PriceBounds, type RegionOffers } from "./CatalogIndex.ts"
import type { Diagnostics } from "./Diagnostics.ts"
import { instanceCounts } from "./InstanceCounts.ts"
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
  work.sort((a, b) =>
    a.bound - b.bound || byString(a.indexed.type.name, b.indexed.type.name) || a.count.instances - b.count.instances
  )
  return work
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
