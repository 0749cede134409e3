/** What every finding reads: the data, the catalog, the thresholds, and the shared spend pools. */
import type { Catalog } from "@frugal/pricing"
import type { Offer } from "@frugal/core"
import type { CostData, GpuSeries, LostWork } from "../CostData.ts"
import type { SpendPools } from "../SpendPools.ts"
import type { Thresholds } from "../Thresholds.ts"

export interface FindingContext {
  readonly costs: CostData
  readonly gpus: ReadonlyArray<GpuSeries>
  readonly lostWork: ReadonlyArray<LostWork>
  readonly catalog: Catalog
  readonly thresholds: Thresholds
  readonly pools: SpendPools
  readonly periodHours: number
}

/** `us-east-1a` → `us-east-1` (zone names are the region plus one or more letters). */
export const regionOfZone = (zone: string): string => zone.replace(/[a-z]+$/, "")

/** The region where an instance type spent most, from the AZ breakdown; the default region otherwise. */
export const regionOf = (context: FindingContext, instanceType: string): string => {
  const byRegion = new Map<string, number>()
  for (const row of context.costs.zones) {
    if (row.instanceType !== instanceType || row.availabilityZone === "") continue
    const region = regionOfZone(row.availabilityZone)
    byRegion.set(region, (byRegion.get(region) ?? 0) + row.costUsd)
  }
  const best = [...byRegion.entries()].sort((a, b) => b[1] - a[1])[0]
  return best === undefined ? context.thresholds.defaultRegion : best[0]
}

/** GPUs per instance from the catalog, else the number of GPU indices seen on one instance. */
export const gpusPerInstance = (context: FindingContext, instanceType: string): number => {
  const known = context.catalog.instanceTypes.find((type) => type.name === instanceType)
  if (known !== undefined && known.acceleratorCount > 0) return known.acceleratorCount
  const indices = context.gpus.filter((series) => series.instanceType === instanceType).map((series) => series.gpuIndex)
  return indices.length === 0 ? 1 : Math.max(...indices) + 1
}

export const offersFor = (
  context: FindingContext,
  instanceType: string,
  region: string,
  option: Offer["purchaseOption"]
): ReadonlyArray<Offer> =>
  context.catalog.offers.filter((offer) =>
    offer.instanceType === instanceType && offer.region === region && offer.purchaseOption === option
  )

export const onDemandPrice = (context: FindingContext, instanceType: string, region: string): number | undefined =>
  offersFor(context, instanceType, region, "on-demand")[0]?.hourlyPriceUsd

export const monthly = (context: FindingContext, costUsd: number): number =>
  context.periodHours <= 0 ? 0 : costUsd * context.thresholds.hoursPerMonth / context.periodHours

/** Spot Instance Advisor interruption-frequency buckets. */
export const INTERRUPTION_BUCKETS = ["<5%", "5-10%", "10-15%", "15-20%", ">20%"] as const

export const bucketLabel = (bucket: number | null): string =>
  bucket === null ? "unknown" : INTERRUPTION_BUCKETS[bucket] ?? "unknown"

/** A finding's dollars: the sum of its evidence, so every figure traces to an item. */
export const evidenceCostUsd = (evidence: ReadonlyArray<{ readonly costUsd: number }>): number =>
  evidence.reduce((total, item) => total + item.costUsd, 0)

/** The costliest piece of evidence (the first of equals), which a finding's action names. */
export const costliest = <E extends { readonly costUsd: number }>(evidence: ReadonlyArray<E>): E | undefined =>
  evidence.reduce<E | undefined>((best, item) => (best === undefined || item.costUsd > best.costUsd ? item : best), undefined)
