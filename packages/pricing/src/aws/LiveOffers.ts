/**
 * Live market data of one region → offers. Pure. Where a kind of data is missing (never fetched, or AWS
 * failed and nothing is cached) the embedded snapshot or the commitment model fills the gap, and the
 * gap is named in the notes so no plan silently mixes quotes and estimates.
 */
import { type InstanceType, type Offer, regionalOffer } from "@frugal/core"
import { modelledCommitmentOffers } from "../CommitmentModel.ts"
import type { Catalog } from "../PriceCatalog.ts"
import type {
  CommitmentRate,
  OnDemandRate,
  PlacementScore,
  RegionMetadata,
  SavingsPlanRates,
  SpotMarket
} from "./MarketData.ts"

/** Where one kind of a region's data came from. */
export type DatumOrigin = "aws" | "cache"

export interface Dated<A> {
  readonly data: A
  readonly fetchedAt: string
  readonly origin: DatumOrigin
}

export interface RegionData {
  readonly region: string
  readonly metadata: Dated<RegionMetadata> | undefined
  readonly onDemand: Dated<ReadonlyArray<OnDemandRate>> | undefined
  readonly reserved: Dated<ReadonlyArray<CommitmentRate>> | undefined
  readonly savingsPlans: Dated<SavingsPlanRates> | undefined
  readonly spot: Dated<ReadonlyArray<SpotMarket>> | undefined
  readonly scores: Dated<ReadonlyArray<PlacementScore>> | undefined
}

export interface RegionOffers {
  readonly offers: ReadonlyArray<Offer>
  readonly instanceTypes: ReadonlyArray<InstanceType>
  readonly notes: ReadonlyArray<string>
  /** Dated data used (for the answer's `asOf` and kind). */
  readonly used: ReadonlyArray<{ readonly fetchedAt: string; readonly origin: DatumOrigin }>
  /** True when any kind came from the embedded snapshot. */
  readonly usedEmbedded: boolean
}

/** Offers of one region from live data, with the embedded catalog filling gaps. */
export const regionOffers = (data: RegionData, embedded: Catalog): RegionOffers => {
  const { region } = data
  const notes: Array<string> = []
  const used: Array<{ fetchedAt: string; origin: DatumOrigin }> = []
  let usedEmbedded = false
  const embeddedHere = embedded.offers.filter((offer) => offer.region === region)
  const offers: Array<Offer> = []
  const use = <A>(datum: Dated<A> | undefined): datum is Dated<A> => {
    if (datum !== undefined) used.push({ fetchedAt: datum.fetchedAt, origin: datum.origin })
    return datum !== undefined
  }

  const liveOnDemand = new Map<string, number>()
  if (use(data.onDemand)) {
    for (const rate of data.onDemand.data) {
      liveOnDemand.set(rate.instanceType, rate.hourlyUsd)
      offers.push(regionalOffer(rate.instanceType, region, "on-demand", rate.hourlyUsd))
    }
  } else {
    usedEmbedded = true
    notes.push(`${region}: no live on-demand prices; using the embedded snapshot's.`)
    offers.push(...embeddedHere.filter((offer) => offer.purchaseOption === "on-demand"))
  }

  // Commitments: quoted when fetched, else modelled from the (live if possible) on-demand price.
  const modelled = (purchaseOption: "reserved" | "savings-plan") => {
    if (liveOnDemand.size === 0) return embeddedHere.filter((offer) => offer.purchaseOption === purchaseOption)
    return [...liveOnDemand].flatMap(([type, price]) =>
      modelledCommitmentOffers(type, region, price).filter((offer) => offer.purchaseOption === purchaseOption)
    )
  }
  const commitments = (purchaseOption: "reserved" | "savings-plan", rates: ReadonlyArray<CommitmentRate>) =>
    rates.map((rate): Offer => ({ ...regionalOffer(rate.instanceType, region, purchaseOption, rate.hourlyUsd), term: rate.term }))
  if (use(data.reserved)) offers.push(...commitments("reserved", data.reserved.data))
  else {
    if (liveOnDemand.size === 0) usedEmbedded = true
    notes.push(`${region}: no live reserved rates; reserved offers are ESTIMATES from published discount levels.`)
    offers.push(...modelled("reserved"))
  }
  if (use(data.savingsPlans)) offers.push(...commitments("savings-plan", data.savingsPlans.data.rates))
  else {
    if (liveOnDemand.size === 0) usedEmbedded = true
    notes.push(`${region}: no Compute Savings Plans price list; savings-plan offers are ESTIMATES from published discount levels.`)
    offers.push(...modelled("savings-plan"))
  }

  // Spot: live price per AZ, the advisor's interruption bucket (from the snapshot) and the live placement score.
  const bucketOf = new Map<string, number>()
  for (const offer of embeddedHere) {
    if (offer.purchaseOption === "spot" && offer.interruptionBucket !== null) bucketOf.set(offer.instanceType, offer.interruptionBucket)
  }
  const scoreOf = new Map<string, number>()
  if (data.scores !== undefined && data.spot !== undefined) {
    use(data.scores)
    for (const score of data.scores.data) scoreOf.set(`${score.instanceType}|${score.availabilityZoneId}`, score.score)
  }
  if (use(data.spot)) {
    for (const market of data.spot.data) {
      offers.push({
        ...regionalOffer(market.instanceType, region, "spot", market.latestUsd),
        availabilityZone: market.availabilityZoneId,
        interruptionBucket: bucketOf.get(market.instanceType) ?? null,
        placementScore: scoreOf.get(`${market.instanceType}|${market.availabilityZoneId}`) ?? null
      })
    }
  } else {
    usedEmbedded = true
    notes.push(`${region}: no live spot prices; using the embedded snapshot's.`)
    offers.push(...embeddedHere.filter((offer) => offer.purchaseOption === "spot"))
  }

  // The live queries cover GPU families (p*, g*); accelerators outside them (Trainium, Inferentia, Gaudi)
  // keep the snapshot's offers so switching to --catalog aws never hides them.
  const outsideLiveQuery = embeddedHere.filter((offer) =>
    !/^[gp]/.test(offer.instanceType) &&
    // Spot offers of the snapshot are already in when live spot data is missing.
    (offer.purchaseOption !== "spot" || data.spot !== undefined)
  )
  if (outsideLiveQuery.length > 0 && data.onDemand !== undefined) {
    usedEmbedded = true
    offers.push(...outsideLiveQuery)
    notes.push(`${region}: Trainium, Inferentia and Gaudi offers are from the embedded snapshot (the live query covers GPU families).`)
  }

  // Instance types: live specs where EC2 described the type, else the snapshot's; offers of a type known
  // to neither are dropped (the planner cannot size a workload on it) and counted in the notes.
  const types = new Map<string, InstanceType>()
  for (const type of embedded.instanceTypes) types.set(type.name, type)
  if (use(data.metadata)) for (const type of data.metadata.data.instanceTypes) types.set(type.name, type)
  const known = offers.filter((offer) => types.has(offer.instanceType))
  const unknown = new Set(offers.filter((offer) => !types.has(offer.instanceType)).map((offer) => offer.instanceType))
  if (unknown.size > 0) notes.push(`${region}: left out ${[...unknown].sort().join(", ")} (no GPU specs known).`)
  const offered = new Set(known.map((offer) => offer.instanceType))
  return {
    offers: known,
    instanceTypes: [...types.values()].filter((type) => offered.has(type.name)),
    notes,
    used,
    usedEmbedded
  }
}
