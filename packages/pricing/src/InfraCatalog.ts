/**
 * A catalog held to what an infrastructure profile can launch (`frugal plan --infra`, `frugal run --infra`): AWS
 * offers only in the profile's regions, spot only in zones that have a subnet, on-demand and commitments only where
 * the region has one, instance types only from its allow-list; plus the profile's Slurm partitions and Kubernetes
 * pools as priced capacity, each an instance type of its own (`slurm:lab/gpu`, `kubernetes:prod/h100-spot`) whose
 * price is the profile's per node. A preemptible Slurm partition and a spot Kubernetes pool are offered as spot, at
 * the pre-emption rate the profile states for them (`preemptionsPerHour`; absent, plans take it as unknown).
 * Pure.
 */
import { Effect, Layer } from "effect"
import { ACCELERATORS, type InfraProfile, instanceTypeAllowed, type InstanceType, type Offer, regionalOffer } from "@frugal/core"
import { filterCatalog } from "./CatalogFilter.ts"
import { type Catalog, PriceCatalog } from "./PriceCatalog.ts"

/** The instance type name of a cluster's capacity: engine, cluster and partition or pool. */
export const clusterInstanceType = (engine: "slurm" | "kubernetes", cluster: string, pool: string): string => `${engine}:${cluster}/${pool}`

/** `slurm:lab/gpu` → its engine, cluster and pool; null for an EC2 instance type. */
export const parseClusterInstanceType = (
  name: string
): { readonly engine: "slurm" | "kubernetes"; readonly cluster: string; readonly pool: string } | null => {
  const match = /^(slurm|kubernetes):([^/]+)\/(.+)$/.exec(name)
  if (match === null) return null
  const [, engine, cluster = "", pool = ""] = match
  return { engine: engine === "slurm" ? "slurm" : "kubernetes", cluster, pool }
}

/** The region of an AZ ID, as the catalog's spot offers place it. */
const regionOfZone = (catalog: Catalog, zone: string): string | null =>
  catalog.offers.find((offer) => offer.availabilityZone === zone)?.region ?? null

/** A spot offer's stated interruption rate, when the profile states one. */
const statedRate = (preemptionsPerHour: number | undefined): Partial<Offer> =>
  preemptionsPerHour === undefined ? {} : { interruptionsPerHour: preemptionsPerHour }

const acceleratorMemory = (name: string): number => ACCELERATORS.find((spec) => spec.name === name)?.memoryGiB ?? 0

/**
 * A cluster's capacity is the profile's to state, not a market to doubt: its node count is the type's
 * `maxInstances`, which tells the planner that up to that many are there to be had (neither discounted as
 * unobtainable nor flagged as a floor price), in either market.
 */
const clusterType = (name: string, accelerator: string, gpusPerNode: number, maxInstances: number, base?: InstanceType): InstanceType => ({
  name,
  maxInstances,
  accelerator,
  acceleratorCount: gpusPerNode,
  acceleratorMemoryGiB: base?.acceleratorMemoryGiB ?? acceleratorMemory(accelerator),
  vcpus: base?.vcpus ?? 0,
  memoryGiB: base?.memoryGiB ?? 0,
  arch: base?.arch ?? "x86_64"
})

/** The catalog as the profile can launch it. */
export const catalogForProfile = (catalog: Catalog, profile: InfraProfile): Catalog => {
  const aws = profile.aws
  const allowedType = new Set(
    aws === undefined ? [] : catalog.instanceTypes.filter((type) => instanceTypeAllowed(profile, type.name)).map((type) => type.name)
  )
  const awsOffers = aws === undefined
    ? []
    : catalog.offers.filter((offer) => {
      const region = aws.regions[offer.region]
      if (region === undefined || !allowedType.has(offer.instanceType)) return false
      return offer.availabilityZone === null || region.subnets[offer.availabilityZone] !== undefined
    })
  const types: Array<InstanceType> = catalog.instanceTypes.filter((type) => allowedType.has(type.name))
  const offers: Array<Offer> = [...awsOffers]

  for (const cluster of profile.slurm ?? []) {
    for (const partition of cluster.partitions) {
      if (partition.accelerator === undefined || partition.gpusPerNode === 0) continue
      const name = clusterInstanceType("slurm", cluster.name, partition.name)
      types.push(clusterType(name, partition.accelerator, partition.gpusPerNode, partition.nodes))
      offers.push(regionalOffer(
        name,
        cluster.region ?? `slurm:${cluster.name}`,
        partition.preemptible ? "spot" : "on-demand",
        partition.hourlyPriceUsd,
        partition.preemptible ? statedRate(partition.preemptionsPerHour) : {}
      ))
    }
  }
  for (const cluster of profile.kubernetes ?? []) {
    for (const pool of cluster.pools) {
      if (pool.accelerator === undefined || pool.gpusPerNode === 0) continue
      const name = clusterInstanceType("kubernetes", cluster.name, pool.name)
      const base = pool.instanceType === undefined ? undefined : catalog.instanceTypes.find((type) => type.name === pool.instanceType)
      types.push(clusterType(name, pool.accelerator, pool.gpusPerNode, pool.maxNodes, base))
      const region = cluster.region ?? (pool.zone === undefined ? null : regionOfZone(catalog, pool.zone)) ?? `kubernetes:${cluster.name}`
      offers.push(regionalOffer(name, region, pool.capacityType, pool.hourlyPriceUsd, {
        availabilityZone: pool.zone ?? null,
        ...(pool.capacityType === "spot" ? statedRate(pool.preemptionsPerHour) : {})
      }))
    }
  }
  return {
    source: {
      ...catalog.source,
      notes: [...catalog.source.notes, "held to the infrastructure profile: only what it can launch"]
    },
    instanceTypes: types,
    offers
  }
}

/**
 * A `PriceCatalog` over another, held to the profile. A workload's `constraints.regions` keeps a cluster only when
 * the profile gives the cluster one of those regions (an on-premises Slurm cluster is in none).
 */
export const layer = (profile: InfraProfile): Layer.Layer<PriceCatalog, never, PriceCatalog> =>
  Layer.effect(
    PriceCatalog,
    Effect.map(Effect.service(PriceCatalog), (base) =>
      PriceCatalog.of({
        // Only the regions the profile can launch in are worth asking for (a live catalog pays per region); the
        // clusters' pseudo-regions are added after, so the query's region filter applies to them too.
        catalog: (query) =>
          Effect.map(base.catalog({ ...query, regions: profileRegions(profile, query?.regions) }), (full) =>
            filterCatalog(catalogForProfile(full, profile), query?.regions === undefined ? undefined : { regions: query.regions }))
      }))
  )

/** The AWS regions worth asking a base catalog about: the profile's (and its clusters'), within the query's. */
const profileRegions = (profile: InfraProfile, wanted: ReadonlyArray<string> | undefined): ReadonlyArray<string> => {
  const regions = new Set([
    ...Object.keys(profile.aws?.regions ?? {}),
    ...(profile.slurm ?? []).flatMap((cluster) => (cluster.region === undefined ? [] : [cluster.region])),
    ...(profile.kubernetes ?? []).flatMap((cluster) => (cluster.region === undefined ? [] : [cluster.region]))
  ])
  return wanted === undefined ? [...regions] : wanted.filter((region) => regions.has(region))
}
