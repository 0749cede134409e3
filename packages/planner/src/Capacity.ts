/**
 * Whether a placement can actually be had: the chance that a pool (an instance type in a zone for spot, in a
 * region for on-demand) launches a gang of n instances at a given moment. Pure; the assumptions are documented in
 * docs/planner.md ("Capacity").
 *
 * - **Placement scores.** Where the live catalog has an EC2 spot placement score (1–10, "how likely a Spot request
 *   is to succeed"; the refresh asks for a target capacity of one instance), one instance is launched with
 *   probability score/10.
 * - **Prior.** Otherwise the chance for one instance comes from the Spot Instance Advisor bucket (pools that reclaim
 *   often are short of capacity) and from the instance's size (full nodes of 8 accelerators are the scarcest).
 *   A type the advisor does not list gets 0.5: new, scarce types are exactly the ones it leaves out.
 * - **Gangs.** n instances together: a1^(1 + log2 n). Capacity within a pool is correlated (a pool that has one
 *   instance often has a few), so this is much kinder than n independent draws (a1^n), yet every doubling of the
 *   gang costs as much as one more instance: 24 full nodes at a1 = 0.52 come to 3%, 8 single-GPU instances at 0.9
 *   to 66%.
 * - **Suspicious prices.** A spot price 88% or more under on-demand (or of a type sold on demand nowhere) with no
 *   placement score and no advisor entry sits at AWS's floor, which is where prices of pools nobody can launch in
 *   stay. Its one-instance chance is 0.2.
 * - **Stated capacity.** A cluster's partition or pool (`IndexedType.statedCapacity`) has the nodes its owner
 *   states, in either market: a placement within them launches (chance 1), and its price is the owner's, not a
 *   market's, so it is never taken for a floor price.
 */
import type { IndexedType } from "./CatalogIndex.ts"

/** One spot instance launches now, by Spot Instance Advisor bucket (<5% … >20%). */
export const SPOT_ONE_INSTANCE_PRIOR: ReadonlyArray<number> = [0.9, 0.85, 0.8, 0.75, 0.65]
/** The advisor has no entry for the type in the region. */
export const SPOT_UNKNOWN_BUCKET_PRIOR = 0.5
/** Instances carrying the most accelerators of their kind (p5.48xlarge, p4d.24xlarge) with 8 or more of them. */
export const FULL_NODE_FACTOR = 0.8
/** On-demand: AWS does not promise capacity either (InsufficientInstanceCapacity), least for the big GPU nodes. */
export const ON_DEMAND_ONE_INSTANCE_PRIOR = 0.99
export const ON_DEMAND_FULL_NODE_PRIOR = 0.95
/** A spot price this far under on-demand, with nothing known about the pool, is at AWS's floor. */
export const FLOOR_DISCOUNT = 0.88
export const SUSPICIOUS_PRICE_PRIOR = 0.2
/** Below this chance a fleet treats a pool as full: it places no more gangs there. */
export const POOL_FULL_BELOW = 0.1
/** Mean hours until on-demand capacity frees up when a request fails (a planning figure). */
export const ON_DEMAND_RETRY_HOURS = 1

export type CapacityBasis = "placement-score" | "prior" | "suspicious-price" | "stated"

export interface PoolCapacity {
  /** Chance that one instance launches now. */
  readonly oneInstance: number
  readonly basis: CapacityBasis
}

/** A cluster's capacity, as its owner states it: there, up to its node count. */
export const STATED_POOL: PoolCapacity = { oneInstance: 1, basis: "stated" }

const isBigNode = (indexed: IndexedType): boolean => indexed.fullNode && indexed.type.acceleratorCount >= 8

/** The chance that a gang of `instances` launches together in a pool where one instance does with `oneInstance`. */
export const gangProbability = (oneInstance: number, instances: number): number =>
  instances <= 0 ? 1 : Math.max(0, Math.min(1, oneInstance)) ** (1 + Math.log2(Math.max(1, instances)))

/**
 * A spot price at the floor: `FLOOR_DISCOUNT` or more under the on-demand price of the type (in the region, else
 * its cheapest anywhere), or a type no region sells on demand (capacity-block-only types such as p5e), whose spot
 * price nothing checks.
 */
export const atPriceFloor = (spotUsd: number, onDemandUsd: number | null): boolean =>
  onDemandUsd === null || !(onDemandUsd > 0) || spotUsd <= (1 - FLOOR_DISCOUNT) * onDemandUsd

/**
 * Where a spot pool's chance comes from: the owner's statement (a cluster), its score, a floor price with nothing
 * known (suspicious), or the prior.
 */
export const spotBasis = (
  indexed: IndexedType,
  bucket: number | null,
  placementScore: number | null,
  spotUsd: number,
  onDemandUsd: number | null
): CapacityBasis =>
  indexed.statedCapacity
    ? "stated"
    : placementScore !== null
    ? "placement-score"
    : bucket === null && atPriceFloor(spotUsd, onDemandUsd)
    ? "suspicious-price"
    : "prior"

/** The chance that one spot instance launches now, given the pool's basis (`spotBasis`). */
export const spotOneInstance = (indexed: IndexedType, basis: CapacityBasis, bucket: number | null, placementScore: number | null): number => {
  switch (basis) {
    case "stated":
      return 1
    case "placement-score":
      return Math.max(0.01, Math.min(1, (placementScore ?? 10) / 10))
    case "suspicious-price":
      return SUSPICIOUS_PRICE_PRIOR
    case "prior": {
      const prior = bucket === null ? SPOT_UNKNOWN_BUCKET_PRIOR : SPOT_ONE_INSTANCE_PRIOR[bucket] ?? SPOT_UNKNOWN_BUCKET_PRIOR
      return prior * (isBigNode(indexed) ? FULL_NODE_FACTOR : 1)
    }
  }
}

/** A spot pool: its score where the catalog has one, else the prior (suspicious at the floor with nothing known). */
export const spotPool = (options: {
  readonly indexed: IndexedType
  readonly bucket: number | null
  readonly placementScore: number | null
  readonly spotUsd: number
  readonly onDemandUsd: number | null
}): PoolCapacity => {
  const basis = spotBasis(options.indexed, options.bucket, options.placementScore, options.spotUsd, options.onDemandUsd)
  return { oneInstance: spotOneInstance(options.indexed, basis, options.bucket, options.placementScore), basis }
}

/** An on-demand pool (a type in a region): the prior by size, or a cluster's stated capacity. */
export const onDemandPool = (indexed: IndexedType): PoolCapacity =>
  indexed.statedCapacity
    ? STATED_POOL
    : isBigNode(indexed)
    ? ON_DEMAND_FULL_NODE_POOL
    : ON_DEMAND_ONE_INSTANCE_POOL

const ON_DEMAND_FULL_NODE_POOL: PoolCapacity = { oneInstance: ON_DEMAND_FULL_NODE_PRIOR, basis: "prior" }
const ON_DEMAND_ONE_INSTANCE_POOL: PoolCapacity = { oneInstance: ON_DEMAND_ONE_INSTANCE_PRIOR, basis: "prior" }

/** Instances a fleet can place in a pool before the chance of the next gang falls under `POOL_FULL_BELOW`. */
export const poolLimit = (oneInstance: number): number => {
  let limit = poolLimits.get(oneInstance)
  if (limit === undefined) {
    limit = computePoolLimit(oneInstance)
    poolLimits.set(oneInstance, limit)
  }
  return limit
}

// A handful of distinct chances (one per bucket, size and score): fleets ask for their limit millions of times.
const poolLimits = new Map<number, number>()

const computePoolLimit = (oneInstance: number): number => {
  if (!(oneInstance > POOL_FULL_BELOW)) return 0
  if (oneInstance >= 1) return Number.POSITIVE_INFINITY
  // a1^(1 + log2 n) ≥ limit ⟺ log2 n ≤ ln(limit)/ln(a1) − 1.
  return Math.floor(2 ** (Math.log(POOL_FULL_BELOW) / Math.log(oneInstance) - 1) + 1e-9)
}

/** Instances a fleet has already placed of one instance type: per spot zone ID, and per region on demand. */
export interface TypeUsage {
  readonly spotByZone: ReadonlyMap<string, number>
  readonly onDemandByRegion: ReadonlyMap<string, number>
  /** Changes whenever an instance is added, so that what is derived from the usage can be cached. */
  readonly version: number
}

/** Instances a fleet has already placed, by instance type. */
export interface PoolUsage {
  readonly byType: ReadonlyMap<string, TypeUsage>
}

/** A fleet's running tally of what it placed where. */
export class PoolTally implements PoolUsage {
  readonly byType = new Map<string, { spotByZone: Map<string, number>; onDemandByRegion: Map<string, number>; version: number }>()

  add(instanceType: string, where: { readonly spotZone: string } | { readonly onDemandRegion: string }, instances: number): void {
    let usage = this.byType.get(instanceType)
    if (usage === undefined) {
      usage = { spotByZone: new Map(), onDemandByRegion: new Map(), version: 0 }
      this.byType.set(instanceType, usage)
    }
    usage.version++
    const [pools, key] = "spotZone" in where ? [usage.spotByZone, where.spotZone] : [usage.onDemandByRegion, where.onDemandRegion]
    pools.set(key, (pools.get(key) ?? 0) + instances)
  }
}

/** The chance that a gang launches in a pool that already holds `used` instances of the fleet (0 when it is full). */
export const gangInPool = (pool: PoolCapacity, instances: number, used: number): number =>
  used > 0 && used + instances > poolLimit(pool.oneInstance) ? 0 : gangProbability(pool.oneInstance, used + instances)
