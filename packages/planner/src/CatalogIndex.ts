/**
 * The catalog rearranged for planning: per instance type, per region, its on-demand price, spot zones (cheapest
 * first) with the region's interruption bucket, and commitment offers. Built once per `Catalog` value and cached
 * (a `WeakMap` keyed by the catalog), so planning thousands of workloads never rebuilds it.
 */
import { type AcceleratorSpec, acceleratorByName, type CommitmentTerm, HOURS_PER_YEAR, type InstanceType } from "@frugal/core"
import type { Catalog } from "@frugal/pricing"
import { atPriceFloor, SPOT_ONE_INSTANCE_PRIOR, SPOT_UNKNOWN_BUCKET_PRIOR } from "./Capacity.ts"

export interface ZoneOffer {
  readonly zone: string
  readonly hourlyUsd: number
  /** EC2 spot placement score (1–10) of the type in this zone where the catalog has one, else null. */
  readonly placementScore: number | null
}

export interface CommitmentOffer {
  /** Index into `CatalogIndex.variants`: the same purchase option and term across types and regions. */
  readonly variant: number
  readonly purchaseOption: "reserved" | "savings-plan"
  readonly term: CommitmentTerm
  readonly hourlyUsd: number
  readonly priceIsEstimate: boolean
  /** On-demand price of the same type in the same region (for the break-even), null when none. */
  readonly onDemandUsd: number | null
}

export interface RegionOffers {
  readonly region: string
  /** The region's position in `CatalogIndex.regions`: per-region caches are arrays, not maps, on the hot path. */
  readonly regionId: number
  /** Null where the catalog has no on-demand price (capacity-block-only types). */
  readonly onDemandUsd: number | null
  /** The region's on-demand price as a spot job's fallback, also where this entry does not offer on-demand itself. */
  readonly fallbackOnDemandUsd: number | null
  readonly onDemandIsEstimate: boolean
  /** Spot Instance Advisor bucket of the type in this region; null when unknown. */
  readonly spotBucket: number | null
  /** Reclaims per instance-hour its owner states for this spot capacity (a cluster's); null: the bucket prices it. */
  readonly statedInterruptionsPerHour: number | null
  readonly spotIsEstimate: boolean
  /** Cheapest first, then by zone ID. */
  readonly spot: ReadonlyArray<ZoneOffer>
  readonly commitments: ReadonlyArray<CommitmentOffer>
  /** Lower bounds over this entry's offers (see `IndexedType.minHourlyUsd`). */
  readonly bounds: PriceBounds
}

export interface PriceBounds {
  /** Lowest hourly price of any offer (a lower bound on what any placement costs per instance-hour). */
  readonly minHourlyUsd: number
  /** Lowest on-demand price; Infinity when none. */
  readonly minOnDemandUsd: number
  /** Lowest commitment rate, and lowest cost of one whole term per instance; Infinity when none. */
  readonly minCommitmentHourlyUsd: number
  readonly minCommitmentTermUsd: number
  /** Lowest spot price; Infinity when none. */
  readonly minSpotUsd: number
  /** Lowest on-demand price of a region with spot (a spot job's fallback); Infinity when none. */
  readonly minSpotFallbackUsd: number
  /** Every region with spot also sells on demand (so a spot job with a deadline always has its fallback). */
  readonly spotFallbackEverywhere: boolean
  /**
   * The highest chance that one spot instance launches, before the full-node factor (Capacity.ts): the best
   * placement score's, or the best bucket's prior. An upper bound: a floor price only lowers it.
   */
  readonly maxSpotOneInstance: number
}

export interface IndexedType {
  readonly type: InstanceType
  /** Null when the catalog's accelerator has no spec in core (it cannot be estimated, so it is never placed). */
  readonly spec: AcceleratorSpec | null
  /**
   * Capacity its owner states (a cluster's partition or pool, `InstanceType.maxInstances`): up to its node count it
   * is there to be had, in either market, so the planner neither discounts it by a prior nor doubts its price.
   */
  readonly statedCapacity: boolean
  /**
   * Carries the most accelerators any type of this accelerator does (p5.48xlarge, not p5.4xlarge): only such
   * "full nodes" are combined into multi-instance placements, because the scaling model assumes the fast
   * interconnect inside a node and the cluster networking of the big sizes.
   */
  readonly fullNode: boolean
  /** Sorted by region code. */
  readonly regions: ReadonlyArray<RegionOffers>
  readonly regionByName: ReadonlyMap<string, RegionOffers>
  /**
   * The offers that can win when every region is allowed and no transfer cost differs between regions: the
   * cheapest on-demand region, the cheapest spot zone per interruption bucket (expected hours depend only on the
   * bucket), the cheapest region per commitment variant. Planning scans these few instead of every region.
   */
  readonly bestOffers: ReadonlyArray<RegionOffers>
  /** `bestOffers` without its spot entries: on-demand and commitments, whose pools a fleet rarely fills. */
  readonly bestNonSpotOffers: ReadonlyArray<RegionOffers>
  /**
   * Every spot zone, one entry each, grouped by what sets its expected cost besides the price (bucket, placement
   * score, floor price) and cheapest first within a group. A fleet that already placed the type scans each group up
   * to its first zone it has not used: every later zone of the group is dearer and no emptier.
   */
  readonly spotByKind: ReadonlyArray<ReadonlyArray<RegionOffers>>
  /** Bounds over every region. */
  readonly bounds: PriceBounds
  /** Any on-demand, spot or commitment offer in any region. */
  readonly hasOnDemand: boolean
  readonly hasSpot: boolean
  readonly hasCommitment: boolean
}

export interface CommitmentVariant {
  readonly purchaseOption: "reserved" | "savings-plan"
  readonly years: 1 | 3
  readonly paymentOption: CommitmentTerm["paymentOption"]
  readonly offeringClass: CommitmentTerm["offeringClass"]
}

export interface CatalogIndex {
  readonly catalog: Catalog
  /** Every region of the catalog, sorted; `RegionOffers.regionId` indexes it. */
  readonly regions: ReadonlyArray<string>
  /** Sorted by instance type name. */
  readonly types: ReadonlyArray<IndexedType>
  readonly variants: ReadonlyArray<CommitmentVariant>
  /** Accelerators that appear in the catalog and have a spec, sorted by name. */
  readonly accelerators: ReadonlyArray<AcceleratorSpec>
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The zone key of a spot offer priced for a whole region (a preemptible cluster partition has no zone). */
const anyZone = (region: string): string => `${region}${ANY_ZONE}`
const ANY_ZONE = " (any zone)"

/** A spot zone as plans show it: null where the offer named none (`anyZone`). */
export const shownZone = (zone: string | null): string | null => zone === null || zone.endsWith(ANY_ZONE) ? null : zone

const cache = new WeakMap<Catalog, CatalogIndex>()

/** Cheapest spot zones kept per kind (bucket, score, floor price) for the all-regions shortcut. */
const SPOT_ZONES_KEPT = 1

const only = (
  region: RegionOffers,
  statedCapacity: boolean,
  parts: {
    readonly onDemandUsd?: number | undefined
    readonly onDemandIsEstimate?: boolean
    readonly spot?: ReadonlyArray<ZoneOffer>
    readonly commitments?: ReadonlyArray<CommitmentOffer>
    /** The entry prices spot only; its on-demand price is kept as the fallback, not as an offer. */
    readonly spotOnly?: boolean
  }
): RegionOffers => {
  const onDemandUsd = parts.onDemandUsd ?? null
  const spot = parts.spot ?? []
  const commitments = parts.commitments ?? []
  return {
    region: region.region,
    regionId: region.regionId,
    onDemandUsd: parts.spotOnly === true ? null : onDemandUsd,
    fallbackOnDemandUsd: onDemandUsd,
    onDemandIsEstimate: parts.onDemandIsEstimate ?? false,
    spotBucket: region.spotBucket,
    statedInterruptionsPerHour: region.statedInterruptionsPerHour,
    spotIsEstimate: region.spotIsEstimate,
    spot,
    commitments,
    bounds: regionBounds(parts.spotOnly === true ? null : onDemandUsd, spot, commitments, onDemandUsd, region.spotBucket, statedCapacity)
  }
}

const regionBounds = (
  onDemandUsd: number | null,
  spot: ReadonlyArray<ZoneOffer>,
  commitments: ReadonlyArray<CommitmentOffer>,
  fallbackOnDemandUsd: number | null,
  spotBucket: number | null,
  statedCapacity: boolean
): PriceBounds => {
  const minOnDemandUsd = onDemandUsd ?? Number.POSITIVE_INFINITY
  let minSpot = Number.POSITIVE_INFINITY
  let maxSpotOneInstance = 0
  let minCommitmentHourlyUsd = Number.POSITIVE_INFINITY
  let minCommitmentTermUsd = Number.POSITIVE_INFINITY
  for (const zone of spot) {
    minSpot = Math.min(minSpot, zone.hourlyUsd)
    const prior = spotBucket === null ? SPOT_UNKNOWN_BUCKET_PRIOR : SPOT_ONE_INSTANCE_PRIOR[spotBucket] ?? SPOT_UNKNOWN_BUCKET_PRIOR
    const oneInstance = statedCapacity ? 1 : zone.placementScore === null ? prior : Math.min(1, zone.placementScore / 10)
    maxSpotOneInstance = Math.max(maxSpotOneInstance, oneInstance)
  }
  for (const c of commitments) {
    minCommitmentHourlyUsd = Math.min(minCommitmentHourlyUsd, c.hourlyUsd)
    minCommitmentTermUsd = Math.min(minCommitmentTermUsd, c.hourlyUsd * HOURS_PER_YEAR * c.term.years)
  }
  const hasSpot = spot.length > 0
  return {
    minHourlyUsd: Math.min(minOnDemandUsd, minSpot, minCommitmentHourlyUsd),
    minOnDemandUsd,
    minCommitmentHourlyUsd,
    minCommitmentTermUsd,
    minSpotUsd: minSpot,
    minSpotFallbackUsd: hasSpot ? fallbackOnDemandUsd ?? Number.POSITIVE_INFINITY : Number.POSITIVE_INFINITY,
    spotFallbackEverywhere: !hasSpot || fallbackOnDemandUsd !== null,
    maxSpotOneInstance
  }
}

export const mergeBounds = (all: ReadonlyArray<PriceBounds>): PriceBounds => {
  let minHourlyUsd = Number.POSITIVE_INFINITY
  let minOnDemandUsd = Number.POSITIVE_INFINITY
  let minCommitmentHourlyUsd = Number.POSITIVE_INFINITY
  let minCommitmentTermUsd = Number.POSITIVE_INFINITY
  let minSpotUsd = Number.POSITIVE_INFINITY
  let minSpotFallbackUsd = Number.POSITIVE_INFINITY
  let spotFallbackEverywhere = true
  let maxSpotOneInstance = 0
  for (const b of all) {
    minHourlyUsd = Math.min(minHourlyUsd, b.minHourlyUsd)
    minOnDemandUsd = Math.min(minOnDemandUsd, b.minOnDemandUsd)
    minCommitmentHourlyUsd = Math.min(minCommitmentHourlyUsd, b.minCommitmentHourlyUsd)
    minCommitmentTermUsd = Math.min(minCommitmentTermUsd, b.minCommitmentTermUsd)
    minSpotUsd = Math.min(minSpotUsd, b.minSpotUsd)
    minSpotFallbackUsd = Math.min(minSpotFallbackUsd, b.minSpotFallbackUsd)
    spotFallbackEverywhere &&= b.spotFallbackEverywhere
    maxSpotOneInstance = Math.max(maxSpotOneInstance, b.maxSpotOneInstance)
  }
  return { minHourlyUsd, minOnDemandUsd, minCommitmentHourlyUsd, minCommitmentTermUsd, minSpotUsd, minSpotFallbackUsd, spotFallbackEverywhere, maxSpotOneInstance }
}

/** The type's cheapest on-demand price in any region, null when no region sells it on demand. */
const cheapestOnDemandUsd = (regions: ReadonlyArray<RegionOffers>): number | null => {
  let cheapest: number | null = null
  for (const region of regions) if (region.onDemandUsd !== null && (cheapest === null || region.onDemandUsd < cheapest)) cheapest = region.onDemandUsd
  return cheapest
}

/** See `IndexedType.bestOffers` and `IndexedType.spotByKind`. Ties go to the first region in code order, as a full scan would pick. */
const bestOffers = (
  regions: ReadonlyArray<RegionOffers>,
  statedCapacity: boolean
): { readonly best: ReadonlyArray<RegionOffers>; readonly nonSpot: ReadonlyArray<RegionOffers>; readonly spotByKind: ReadonlyArray<ReadonlyArray<RegionOffers>> } => {
  const typeOnDemandUsd = cheapestOnDemandUsd(regions)
  let onDemand: RegionOffers | undefined
  // A spot zone's expected cost depends on its price, the region's bucket, its placement score, whether its price
  // sits at the floor and the region's on-demand price (the fallback): keep the few cheapest of each kind.
  const spotByKind = new Map<string, Array<{ region: RegionOffers; zone: ZoneOffer }>>()
  const commitmentByVariant = new Map<number, { region: RegionOffers; offer: CommitmentOffer }>()
  for (const region of regions) {
    if (region.onDemandUsd !== null && (onDemand === undefined || onDemand.onDemandUsd === null || region.onDemandUsd < onDemand.onDemandUsd)) {
      onDemand = region
    }
    for (const zone of region.spot) {
      const key = `${region.spotBucket}|${region.statedInterruptionsPerHour}|${zone.placementScore}|${atPriceFloor(zone.hourlyUsd, region.onDemandUsd ?? typeOnDemandUsd)}`
      const kept = spotByKind.get(key) ?? []
      kept.push({ region, zone })
      spotByKind.set(key, kept)
    }
    for (const offer of region.commitments) {
      const best = commitmentByVariant.get(offer.variant)
      if (best === undefined || offer.hourlyUsd < best.offer.hourlyUsd) commitmentByVariant.set(offer.variant, { region, offer })
    }
  }
  const nonSpot: Array<RegionOffers> = []
  if (onDemand !== undefined && onDemand.onDemandUsd !== null) {
    nonSpot.push(only(onDemand, statedCapacity, { onDemandUsd: onDemand.onDemandUsd, onDemandIsEstimate: onDemand.onDemandIsEstimate }))
  }
  for (const { region, offer } of commitmentByVariant.values()) nonSpot.push(only(region, statedCapacity, { commitments: [offer] }))
  const groups: Array<ReadonlyArray<RegionOffers>> = []
  for (const kept of spotByKind.values()) {
    // Stable: cheapest first, then the region order the scan would meet them in.
    kept.sort((a, b) => a.zone.hourlyUsd - b.zone.hourlyUsd || byString(a.region.region, b.region.region) || byString(a.zone.zone, b.zone.zone))
    groups.push(kept.map(({ region, zone }) => only(region, statedCapacity, { spot: [zone], onDemandUsd: region.onDemandUsd ?? undefined, spotOnly: true })))
  }
  const best: Array<RegionOffers> = []
  if (nonSpot[0] !== undefined && onDemand !== undefined) best.push(nonSpot[0])
  for (const group of groups) best.push(...group.slice(0, SPOT_ZONES_KEPT))
  best.push(...nonSpot.slice(onDemand !== undefined && onDemand.onDemandUsd !== null ? 1 : 0))
  return { best, nonSpot, spotByKind: groups }
}

interface MutableRegion {
  onDemandUsd: number | null
  onDemandIsEstimate: boolean
  spotBucket: number | null
  statedInterruptionsPerHour: number | null
  spotIsEstimate: boolean
  spot: Map<string, { hourlyUsd: number; placementScore: number | null }>
  commitments: Array<{ -readonly [K in keyof CommitmentOffer]: CommitmentOffer[K] }>
}

const PAYMENT_CODE: Readonly<Record<CommitmentTerm["paymentOption"], number>> = { "no-upfront": 0, "partial-upfront": 1, "all-upfront": 2 }
const CLASS_CODE: Readonly<Record<CommitmentTerm["offeringClass"], number>> = {
  "standard": 0,
  "convertible": 1,
  "compute-savings-plan": 2,
  "instance-savings-plan": 3
}

/** A number that identifies a commitment variant and orders variants: reserved before savings plans, then term. */
const variantCode = (purchaseOption: "reserved" | "savings-plan", term: CommitmentTerm): number =>
  (((purchaseOption === "reserved" ? 0 : 1) * 4 + term.years) * 4 + CLASS_CODE[term.offeringClass]) * 3 + PAYMENT_CODE[term.paymentOption]

export const indexCatalog = (catalog: Catalog): CatalogIndex => {
  const cached = cache.get(catalog)
  if (cached !== undefined) return cached

  // Variant ids follow the order of a numeric code of the term, not the order offers arrive in, so plans do not
  // depend on it. The code avoids building a string key per offer (thousands of them on the start-up path).
  const codes = new Map<number, CommitmentVariant>()
  for (const offer of catalog.offers) {
    if ((offer.purchaseOption === "reserved" || offer.purchaseOption === "savings-plan") && offer.term !== null) {
      const code = variantCode(offer.purchaseOption, offer.term)
      if (!codes.has(code)) {
        codes.set(code, {
          purchaseOption: offer.purchaseOption,
          years: offer.term.years,
          paymentOption: offer.term.paymentOption,
          offeringClass: offer.term.offeringClass
        })
      }
    }
  }
  const sortedCodes = [...codes.keys()].sort((a, b) => a - b)
  const variants: ReadonlyArray<CommitmentVariant> = sortedCodes.flatMap((code) => {
    const variant = codes.get(code)
    return variant === undefined ? [] : [variant]
  })
  const variantIds = new Map(sortedCodes.map((code, id) => [code, id]))

  const regionsByType = new Map<string, Map<string, MutableRegion>>()
  for (const offer of catalog.offers) {
    if (!(offer.hourlyPriceUsd > 0) || !Number.isFinite(offer.hourlyPriceUsd)) continue
    let regions = regionsByType.get(offer.instanceType)
    if (regions === undefined) {
      regions = new Map()
      regionsByType.set(offer.instanceType, regions)
    }
    let region = regions.get(offer.region)
    if (region === undefined) {
      region = {
        onDemandUsd: null,
        onDemandIsEstimate: false,
        spotBucket: null,
        statedInterruptionsPerHour: null,
        spotIsEstimate: false,
        spot: new Map(),
        commitments: []
      }
      regions.set(offer.region, region)
    }
    switch (offer.purchaseOption) {
      case "on-demand":
        // Several on-demand offers for one region (a catalog merging sources): keep the cheapest.
        if (region.onDemandUsd === null || offer.hourlyPriceUsd < region.onDemandUsd) {
          region.onDemandUsd = offer.hourlyPriceUsd
          region.onDemandIsEstimate = offer.priceIsEstimate
        }
        break
      case "spot": {
        const zone = offer.availabilityZone ?? anyZone(offer.region)
        const known = region.spot.get(zone)
        if (known === undefined || offer.hourlyPriceUsd < known.hourlyUsd) {
          region.spot.set(zone, { hourlyUsd: offer.hourlyPriceUsd, placementScore: offer.placementScore ?? known?.placementScore ?? null })
        }
        if (offer.interruptionBucket !== null) {
          region.spotBucket = region.spotBucket === null ? offer.interruptionBucket : Math.max(region.spotBucket, offer.interruptionBucket)
        }
        // Several stated rates for one type and region (a catalog merging sources): the highest, as for buckets.
        if (offer.interruptionsPerHour !== undefined) {
          region.statedInterruptionsPerHour = Math.max(region.statedInterruptionsPerHour ?? 0, offer.interruptionsPerHour)
        }
        region.spotIsEstimate ||= offer.priceIsEstimate
        break
      }
      case "reserved":
      case "savings-plan":
        if (offer.term !== null) {
          region.commitments.push({
            variant: variantIds.get(variantCode(offer.purchaseOption, offer.term)) ?? 0,
            purchaseOption: offer.purchaseOption,
            term: offer.term,
            hourlyUsd: offer.hourlyPriceUsd,
            priceIsEstimate: offer.priceIsEstimate,
            onDemandUsd: null
          })
        }
        break
    }
  }

  const maxPerAccelerator = new Map<string, number>()
  for (const type of catalog.instanceTypes) {
    maxPerAccelerator.set(type.accelerator, Math.max(maxPerAccelerator.get(type.accelerator) ?? 0, type.acceleratorCount))
  }

  const regionNames = [...new Set(catalog.offers.map((offer) => offer.region))].sort(byString)
  const regionIds = new Map(regionNames.map((name, id) => [name, id]))
  const seen = new Set<string>()
  const types: Array<IndexedType> = []
  for (const type of [...catalog.instanceTypes].sort((a, b) => byString(a.name, b.name))) {
    if (seen.has(type.name)) continue
    seen.add(type.name)
    const statedCapacity = type.maxInstances !== undefined
    const regions = [...(regionsByType.get(type.name) ?? new Map<string, MutableRegion>()).entries()]
      .sort(([a], [b]) => byString(a, b))
      .map(([region, r]): RegionOffers => {
        const spot = [...r.spot.entries()]
          .map(([zone, { hourlyUsd, placementScore }]): ZoneOffer => ({ zone, hourlyUsd, placementScore }))
          .sort((a, b) => a.hourlyUsd - b.hourlyUsd || byString(a.zone, b.zone))
        for (const c of r.commitments) c.onDemandUsd = r.onDemandUsd
        const commitments = r.commitments.sort((a, b) => a.variant - b.variant || a.hourlyUsd - b.hourlyUsd)
        return {
          region,
          regionId: regionIds.get(region) ?? -1,
          onDemandUsd: r.onDemandUsd,
          fallbackOnDemandUsd: r.onDemandUsd,
          onDemandIsEstimate: r.onDemandIsEstimate,
          spotBucket: r.spotBucket,
          statedInterruptionsPerHour: r.statedInterruptionsPerHour,
          spotIsEstimate: r.spotIsEstimate,
          spot,
          commitments,
          bounds: regionBounds(r.onDemandUsd, spot, commitments, r.onDemandUsd, r.spotBucket, statedCapacity)
        }
      })
    if (regions.length === 0) continue
    const shortcut = bestOffers(regions, statedCapacity)
    types.push({
      type,
      spec: acceleratorByName(type.accelerator) ?? null,
      statedCapacity,
      fullNode: type.acceleratorCount >= (maxPerAccelerator.get(type.accelerator) ?? 0),
      regions,
      regionByName: new Map(regions.map((r) => [r.region, r])),
      bestOffers: shortcut.best,
      bestNonSpotOffers: shortcut.nonSpot,
      spotByKind: shortcut.spotByKind,
      bounds: mergeBounds(regions.map((r) => r.bounds)),
      hasOnDemand: regions.some((r) => r.onDemandUsd !== null),
      hasSpot: regions.some((r) => r.spot.length > 0),
      hasCommitment: regions.some((r) => r.commitments.length > 0)
    })
  }
  const accelerators = new Map<string, AcceleratorSpec>()
  for (const t of types) if (t.spec !== null) accelerators.set(t.spec.name, t.spec)

  const index: CatalogIndex = {
    catalog,
    regions: regionNames,
    types,
    variants,
    accelerators: [...accelerators.values()].sort((a, b) => byString(a.name, b.name))
  }
  cache.set(catalog, index)
  return index
}
