/**
 * What the live catalog keeps per region and kind of data, as written to the disk cache. Prices are
 * stored as AWS lists them (before account discounts), so changing `pricing.yaml` never needs a refresh.
 */
import { Schema } from "effect"
import { CommitmentTerm, InstanceType } from "@frugal/core"

/** The kinds of data a refresh can pull, each with its own time to live. */
export const MarketDataKind = Schema.Literals(["on-demand", "reserved", "savings-plan", "spot", "scores", "instance-types"])
export type MarketDataKind = typeof MarketDataKind.Type

/** Kinds a user names in `--kinds`; `instance-types` (zones and GPU specs) comes with any of them. */
export const REFRESHABLE_KINDS = ["on-demand", "reserved", "savings-plan", "spot", "scores"] as const
export type RefreshableKind = typeof REFRESHABLE_KINDS[number]

/** Prices change rarely (AWS publishes price-list updates about daily); spot and capacity move by the hour. */
export const TTL_HOURS: Readonly<Record<MarketDataKind, number>> = {
  "on-demand": 24,
  reserved: 24,
  "savings-plan": 24,
  "instance-types": 24,
  spot: 1,
  scores: 1
}

export const OnDemandRate = Schema.Struct({
  instanceType: Schema.String,
  hourlyUsd: Schema.Number,
  /** From the product attributes, for types `DescribeInstanceTypes` did not describe. */
  vcpus: Schema.NullOr(Schema.Number),
  memoryGiB: Schema.NullOr(Schema.Number),
  gpus: Schema.NullOr(Schema.Number),
  gpuMemoryGiB: Schema.NullOr(Schema.Number)
})
export type OnDemandRate = typeof OnDemandRate.Type

export const CommitmentRate = Schema.Struct({
  instanceType: Schema.String,
  term: CommitmentTerm,
  /** Effective USD per instance-hour: (upfront / term hours) + recurring. */
  hourlyUsd: Schema.Number
})
export type CommitmentRate = typeof CommitmentRate.Type

export const SpotMarket = Schema.Struct({
  instanceType: Schema.String,
  availabilityZoneId: Schema.String,
  availabilityZone: Schema.String,
  latestUsd: Schema.Number,
  latestAt: Schema.String,
  /** Over the history window: price points seen, range, time-weighted mean, and coefficient of variation. */
  pricePoints: Schema.Number,
  minUsd: Schema.Number,
  maxUsd: Schema.Number,
  meanUsd: Schema.Number,
  volatility: Schema.Number
})
export type SpotMarket = typeof SpotMarket.Type

export const PlacementScore = Schema.Struct({
  instanceType: Schema.String,
  availabilityZoneId: Schema.String,
  score: Schema.Number
})
export type PlacementScore = typeof PlacementScore.Type

export const Zone = Schema.Struct({ name: Schema.String, id: Schema.String })
export type Zone = typeof Zone.Type

export const RegionMetadata = Schema.Struct({
  zones: Schema.Array(Zone),
  instanceTypes: Schema.Array(InstanceType)
})
export type RegionMetadata = typeof RegionMetadata.Type

export const SavingsPlanRates = Schema.Struct({
  rates: Schema.Array(CommitmentRate),
  /** Where the rates came from, e.g. the price list's ARN and publication date. */
  origin: Schema.String
})
export type SavingsPlanRates = typeof SavingsPlanRates.Type

/** The schema of each kind's cached data. */
export const MARKET_DATA_SCHEMAS = {
  "on-demand": Schema.Array(OnDemandRate),
  reserved: Schema.Array(CommitmentRate),
  "savings-plan": SavingsPlanRates,
  spot: Schema.Array(SpotMarket),
  scores: Schema.Array(PlacementScore),
  "instance-types": RegionMetadata
} as const

export type MarketDataOf<K extends MarketDataKind> = (typeof MARKET_DATA_SCHEMAS)[K]["Type"]

/** The schema of one kind's cached data, typed by the kind. */
export const marketDataSchema = <K extends MarketDataKind>(kind: K): Schema.Codec<MarketDataOf<K>, unknown> =>
  MARKET_DATA_SCHEMAS[kind]
