/**
 * Which instance type a replica runs on, from the price catalog: every type whose GPUs hold the model and serve it
 * (core's serving estimate, via `replicaCapacity`), priced per region as the service would run (its on-demand base
 * at the on-demand price, the rest at the region's median spot price when the service uses spot), at the replica
 * count the workload's sustained `inference.tokensPerSecond` needs. The cheapest wins. Pure.
 */
import {
  acceleratorByName,
  type AcceleratorSpec,
  type InferenceWorkload,
  type ServiceSection
} from "@frugal/core"
import { type Catalog, spotRisk } from "@frugal/pricing"
import { type ReplicaCapacity, replicaCapacity, type RequestMix } from "./Capacity.ts"

export interface ZoneOffer {
  /** AZ ID (`use1-az4`). */
  readonly zone: string
  readonly spotPriceUsdPerHour: number
  /** Spot Instance Advisor bucket 0..4, null when unknown (priced as the worst). */
  readonly interruptionBucket: number | null
  readonly interruptionsPerHour: number
}

export interface RegionOffers {
  readonly region: string
  readonly onDemandPriceUsdPerHour: number | null
  /** Zones with a spot offer, cheapest first. */
  readonly spotZones: ReadonlyArray<ZoneOffer>
  /** Median spot price over the zones; null without spot. */
  readonly medianSpotPriceUsdPerHour: number | null
}

export interface ReplicaOffer {
  readonly instanceType: string
  readonly accelerator: string
  readonly capacity: ReplicaCapacity
  readonly regions: ReadonlyMap<string, RegionOffers>
}

export const median = (values: ReadonlyArray<number>): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

/** The offers of one instance type, by region. */
export const regionOffersOf = (catalog: Catalog, instanceType: string): ReadonlyMap<string, RegionOffers> => {
  const byRegion = new Map<string, { onDemand: number | null; spot: Array<ZoneOffer> }>()
  for (const offer of catalog.offers) {
    if (offer.instanceType !== instanceType) continue
    const entry = byRegion.get(offer.region) ?? { onDemand: null, spot: [] }
    byRegion.set(offer.region, entry)
    if (offer.purchaseOption === "on-demand") {
      entry.onDemand = entry.onDemand === null ? offer.hourlyPriceUsd : Math.min(entry.onDemand, offer.hourlyPriceUsd)
    } else if (offer.purchaseOption === "spot" && offer.availabilityZone !== null) {
      entry.spot.push({
        zone: offer.availabilityZone,
        spotPriceUsdPerHour: offer.hourlyPriceUsd,
        interruptionBucket: offer.interruptionBucket,
        interruptionsPerHour: spotRisk(offer.interruptionBucket).interruptionsPerHour
      })
    }
  }
  const out = new Map<string, RegionOffers>()
  for (const [region, entry] of [...byRegion.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const spotZones = entry.spot.sort((a, b) => a.spotPriceUsdPerHour - b.spotPriceUsdPerHour || a.zone.localeCompare(b.zone))
    out.set(region, {
      region,
      onDemandPriceUsdPerHour: entry.onDemand,
      spotZones,
      medianSpotPriceUsdPerHour: median(spotZones.map((z) => z.spotPriceUsdPerHour))
    })
  }
  return out
}

/** Requests per second the workload's sustained `tokensPerSecond` means for a request mix. */
export const targetRequestsPerSecond = (workload: InferenceWorkload, mix: RequestMix): number =>
  workload.inference.tokensPerSecond / Math.max(1, mix.generatedTokens)

/** Replicas the rule keeps for a steady load of `requestsPerSecond` (every signal at its target), within [min, max]. */
export const replicasForLoad = (service: ServiceSection, capacity: ReplicaCapacity, requestsPerSecond: number): number => {
  const { target, replicas } = service
  const counts = [
    target.requestsInFlightPerReplica === undefined ? 0 : (requestsPerSecond * capacity.latencySeconds) / target.requestsInFlightPerReplica,
    target.requestsPerSecondPerReplica === undefined ? 0 : requestsPerSecond / target.requestsPerSecondPerReplica,
    requestsPerSecond / capacity.requestsPerSecond
  ]
  return Math.min(replicas.max, Math.max(replicas.min, Math.ceil(Math.max(...counts) - 1e-9)))
}

/** Hourly cost of `replicas` replicas in a region: the on-demand base, the rest spot (median) when allowed. */
export const hourlyCostUsd = (service: ServiceSection, offers: RegionOffers, replicas: number): number | null => {
  const onDemand = offers.onDemandPriceUsdPerHour
  if (onDemand === null) return null
  const base = Math.min(service.onDemandBase, replicas)
  const spot = service.spot ? offers.medianSpotPriceUsdPerHour ?? onDemand : onDemand
  return base * onDemand + (replicas - base) * spot
}

/**
 * Whether a replica can carry what the rule asks of it: a target above what one replica holds in flight (or serves
 * per second) would keep every replica overloaded, since the autoscaler adds replicas only past the target.
 */
export const carriesTarget = (service: ServiceSection, capacity: ReplicaCapacity): boolean =>
  (service.target.requestsInFlightPerReplica ?? 0) <= capacity.requestsInFlight &&
  (service.target.requestsPerSecondPerReplica ?? 0) <= capacity.requestsPerSecond

export interface ReplicaChoiceOptions {
  readonly mix: RequestMix
  /** Regions the service may use (null: any). */
  readonly regions: ReadonlyArray<string> | null
  /** Every one of `regions` must offer the type (on-demand, and spot when the service uses spot). */
  readonly everyRegion: boolean
}

/** Accelerators the workload allows: those it names, else every CUDA accelerator. */
const allowedSpec = (workload: InferenceWorkload, name: string): AcceleratorSpec | undefined => {
  const spec = acceleratorByName(name)
  if (spec === undefined) return undefined
  const named = workload.resources?.accelerators
  if (named !== undefined) return named.some((a) => a.accelerator === spec.name) ? spec : undefined
  return spec.cuda ? spec : undefined
}

/** Every instance type that can be a replica, with its capacity and offers, cheapest at the sustained load first. */
export const replicaOffers = (
  workload: InferenceWorkload,
  service: ServiceSection,
  catalog: Catalog,
  options: ReplicaChoiceOptions
): ReadonlyArray<ReplicaOffer & { readonly hourlyCostUsd: number; readonly region: string }> => {
  const capacities = new Map<string, ReplicaCapacity | null>()
  const rps = targetRequestsPerSecond(workload, options.mix)
  const out: Array<ReplicaOffer & { readonly hourlyCostUsd: number; readonly region: string }> = []
  for (const type of catalog.instanceTypes) {
    const spec = allowedSpec(workload, type.accelerator)
    if (spec === undefined || !Number.isInteger(type.acceleratorCount) || type.acceleratorCount < 1) continue
    const key = `${spec.name}:${type.acceleratorCount}`
    if (!capacities.has(key)) capacities.set(key, replicaCapacity(workload, spec, type.acceleratorCount, options.mix))
    const capacity = capacities.get(key) ?? null
    if (capacity === null || !carriesTarget(service, capacity)) continue
    const regions = regionOffersOf(catalog, type.name)
    const usable = (offers: RegionOffers | undefined) =>
      offers !== undefined && offers.onDemandPriceUsdPerHour !== null && (!service.spot || offers.spotZones.length > 0)
    const allowed = options.regions ?? [...regions.keys()]
    if (options.everyRegion && !allowed.every((region) => usable(regions.get(region)))) continue
    const replicas = replicasForLoad(service, capacity, rps)
    let best: { region: string; cost: number } | null = null
    for (const region of allowed) {
      const offers = regions.get(region)
      if (offers === undefined || !usable(offers)) continue
      const cost = hourlyCostUsd(service, offers, replicas)
      if (cost !== null && (best === null || cost < best.cost)) best = { region, cost }
    }
    if (best === null) continue
    out.push({ instanceType: type.name, accelerator: spec.name, capacity, regions, hourlyCostUsd: best.cost, region: best.region })
  }
  return out.sort((a, b) => a.hourlyCostUsd - b.hourlyCostUsd || a.instanceType.localeCompare(b.instanceType))
}
