/**
 * What a price source says about one way to buy an instance: the vocabulary shared by
 * `pricing` (which produces offers) and `planner` (which ranks them).
 */
import { Schema } from "effect"

/** Every way to buy an instance, in the order plans list them when all else is equal. */
export const PURCHASE_OPTIONS = ["spot", "on-demand", "reserved", "savings-plan"] as const
export const PurchaseOption = Schema.Literals(PURCHASE_OPTIONS)
export type PurchaseOption = typeof PurchaseOption.Type

/** Where a set of offers came from, and when it was true. Every answer carries one. */
export const CatalogSource = Schema.Struct({
  kind: Schema.Literals(["embedded", "aws", "cache", "file"]),
  /** ISO date (`2026-07-09`) or date-time of the data, not of the query. */
  asOf: Schema.String,
  /** Human description: `embedded snapshot of the SkyPilot AWS catalog`, `AWS Pricing API, cached 2h ago`. */
  description: Schema.String,
  /** Caveats a user must see: estimated commitment rates, fallbacks taken, discounts applied. */
  notes: Schema.Array(Schema.String)
})
export type CatalogSource = typeof CatalogSource.Type

/** An EC2 instance type with accelerators. */
export const InstanceType = Schema.Struct({
  name: Schema.String,
  /** Canonical accelerator name (see `Accelerator.ts`). */
  accelerator: Schema.String,
  /** Accelerators per instance; below 1 for fractional GPUs (g6f). */
  acceleratorCount: Schema.Number,
  /** Memory of one accelerator (or of the fraction this instance gets), GiB. */
  acceleratorMemoryGiB: Schema.Number,
  vcpus: Schema.Number,
  memoryGiB: Schema.Number,
  arch: Schema.Literals(["x86_64", "arm64"]),
  /**
   * Capacity its owner states (a Slurm partition's nodes, a Kubernetes pool's): up to this many can be had together,
   * at once, so plans take them as obtainable and never place more. Absent (EC2): no limit, and no promise, known.
   */
  maxInstances: Schema.optionalKey(Schema.Number)
})
export type InstanceType = typeof InstanceType.Type

/** A commitment's terms: the effective hourly rate on the offer already includes the upfront part. */
export const CommitmentTerm = Schema.Struct({
  years: Schema.Literals([1, 3]),
  paymentOption: Schema.Literals(["no-upfront", "partial-upfront", "all-upfront"]),
  offeringClass: Schema.Literals(["standard", "convertible", "compute-savings-plan", "instance-savings-plan"]),
  /** Paid once at purchase. */
  upfrontUsd: Schema.Number,
  /** Paid every hour of the term, used or not. */
  recurringHourlyUsd: Schema.Number
})
export type CommitmentTerm = typeof CommitmentTerm.Type

export const Offer = Schema.Struct({
  instanceType: Schema.String,
  region: Schema.String,
  /** AZ ID (`use1-az4`) for spot; null where the price holds for the whole region. */
  availabilityZone: Schema.NullOr(Schema.String),
  purchaseOption: PurchaseOption,
  /** Effective USD per instance-hour: for commitments, (upfront / term hours) + recurring. */
  hourlyPriceUsd: Schema.Number,
  /** Present for reserved and savings-plan offers. */
  term: Schema.NullOr(CommitmentTerm),
  /** True when the price is modelled (e.g. commitment rates from published discount levels), not quoted. */
  priceIsEstimate: Schema.Boolean,
  /** Spot only: AWS Spot Instance Advisor interruption-frequency bucket 0 (<5%) .. 4 (>20%), null if unknown. */
  interruptionBucket: Schema.NullOr(Schema.Number),
  /** Spot only: EC2 spot placement score 1..10 where known, else null. */
  placementScore: Schema.NullOr(Schema.Number),
  /**
   * Spot only: reclaims per instance-hour as the capacity's owner states them (a preemptible Slurm partition's or a
   * spot Kubernetes pool's `preemptionsPerHour`); where present, plans price the offer at this rate, not its bucket's.
   */
  interruptionsPerHour: Schema.optionalKey(Schema.Number)
})
export type Offer = typeof Offer.Type

/**
 * An offer for a whole region with no term, quoted (not modelled) and without spot signals: the shape every price
 * source starts from. `extra` sets the rest (a zone, a term, an interruption bucket).
 */
export const regionalOffer = (
  instanceType: string,
  region: string,
  purchaseOption: PurchaseOption,
  hourlyPriceUsd: number,
  extra: Partial<Offer> = {}
): Offer => ({
  instanceType,
  region,
  availabilityZone: null,
  purchaseOption,
  hourlyPriceUsd,
  term: null,
  priceIsEstimate: false,
  interruptionBucket: null,
  placementScore: null,
  ...extra
})
