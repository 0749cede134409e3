/**
 * Reserved Instance and Savings Plan rates MODELLED from published discount levels, for catalogs that only
 * know on-demand prices (the embedded snapshot). Every offer made here has `priceIsEstimate: true`; the live
 * AWS catalog replaces them with quoted rates.
 *
 * Sources (AWS pages; the figures were read there, not fetched at generation time):
 * - Standard RIs and EC2 Instance Savings Plans save "up to 72%", Compute Savings Plans "up to 66%"
 *   (https://aws.amazon.com/savingsplans/compute-pricing/, https://aws.amazon.com/ec2/pricing/reserved-instances/):
 *   we keep Compute SP 6 points below the RI rate of the same term and payment.
 * - Per family, the 1-yr and 3-yr effective hourly rates on the instance-type pages (US East, Linux):
 *   P3 https://aws.amazon.com/ec2/instance-types/p3/ (p3.2xlarge $3.06 → ~35% / ~65% off),
 *   P4 https://aws.amazon.com/ec2/instance-types/p4/ (p4d.24xlarge $32.77 → $19.22 / $11.57: 41% / 65%),
 *   P5 https://aws.amazon.com/ec2/instance-types/p5/ (p5.48xlarge $98.32 → $57.63 / $43.16: 41% / 56%),
 *   G4 https://aws.amazon.com/ec2/instance-types/g4/ (g4dn.xlarge $0.526 → $0.316 / $0.210: 40% / 60%),
 *   G5 https://aws.amazon.com/ec2/instance-types/g5/ (g5.xlarge → ~40% / ~60%),
 *   Inf2 https://aws.amazon.com/ec2/instance-types/inf2/ (inf2.xlarge $0.76 → $0.45 / $0.30: 41% / 60%).
 *   Families without a published figure take the closest family's level (named in `FAMILY_LEVELS`), or the
 *   default, which is the lowest of the above.
 * - Payment options: the page figures are taken as all-upfront; partial upfront is 1 (1-yr) or 2 (3-yr) points
 *   less and no upfront 4 or 5 points less, the spread AWS's RI price list shows for general-purpose types.
 */
import { type CommitmentTerm, HOURS_PER_YEAR, type Offer, regionalOffer } from "@frugal/core"

/** AWS prices commitments over 8,760 hours a year (re-exported from core for the modules that price terms). */
export { HOURS_PER_YEAR }

export interface DiscountLevel {
  /** Fraction off on-demand for a 1-yr standard RI, all upfront. */
  readonly oneYear: number
  /** Fraction off on-demand for a 3-yr standard RI, all upfront. */
  readonly threeYear: number
  /** Where the level comes from. */
  readonly basis: string
}

const P3: DiscountLevel = { oneYear: 0.35, threeYear: 0.65, basis: "AWS P3 page" }
const P4: DiscountLevel = { oneYear: 0.41, threeYear: 0.65, basis: "AWS P4 page" }
const P5: DiscountLevel = { oneYear: 0.41, threeYear: 0.56, basis: "AWS P5 page" }
const G4: DiscountLevel = { oneYear: 0.4, threeYear: 0.6, basis: "AWS G4 page" }
const G5: DiscountLevel = { oneYear: 0.4, threeYear: 0.6, basis: "AWS G5 page" }
const INF2: DiscountLevel = { oneYear: 0.41, threeYear: 0.6, basis: "AWS Inf2 page" }

export const DEFAULT_DISCOUNT_LEVEL: DiscountLevel = { oneYear: 0.35, threeYear: 0.56, basis: "lowest published GPU level" }

/** Family (the part of the instance type before the dot) → discount level. */
export const FAMILY_LEVELS: ReadonlyMap<string, DiscountLevel> = new Map([
  ["p3", P3],
  ["p3dn", P3],
  ["p4d", P4],
  ["p4de", P4],
  ["p5", P5],
  ["p5e", { ...P5, basis: "AWS P5 page (p5e/p5en assumed alike)" }],
  ["p5en", { ...P5, basis: "AWS P5 page (p5e/p5en assumed alike)" }],
  ["p6-b200", { ...P5, basis: "AWS P5 page (P6 assumed alike)" }],
  ["p6-b300", { ...P5, basis: "AWS P5 page (P6 assumed alike)" }],
  ["g4dn", G4],
  ["g4ad", G4],
  ["g5", G5],
  ["g5g", { ...G5, basis: "AWS G5 page (g5g assumed alike)" }],
  ["g6", { ...G5, basis: "AWS G5 page (G6 assumed alike)" }],
  ["g6e", { ...G5, basis: "AWS G5 page (G6e assumed alike)" }],
  ["g6f", { ...G5, basis: "AWS G5 page (G6f assumed alike)" }],
  ["gr6", { ...G5, basis: "AWS G5 page (Gr6 assumed alike)" }],
  ["gr6f", { ...G5, basis: "AWS G5 page (Gr6f assumed alike)" }],
  ["g7e", { ...G5, basis: "AWS G5 page (G7e assumed alike)" }],
  ["inf1", { ...INF2, basis: "AWS Inf2 page (Inf1 assumed alike)" }],
  ["inf2", INF2],
  ["trn1", { ...INF2, basis: "AWS Inf2 page (Trn1 assumed alike)" }],
  ["trn1n", { ...INF2, basis: "AWS Inf2 page (Trn1n assumed alike)" }],
  ["trn2", { ...INF2, basis: "AWS Inf2 page (Trn2 assumed alike)" }]
])

export const discountLevel = (instanceType: string): DiscountLevel =>
  FAMILY_LEVELS.get(instanceType.split(".")[0] ?? "") ?? DEFAULT_DISCOUNT_LEVEL

type Payment = CommitmentTerm["paymentOption"]

/** Points below the all-upfront discount, per term and payment option. */
const PAYMENT_SPREAD: Readonly<Record<1 | 3, Readonly<Record<Payment, number>>>> = {
  1: { "all-upfront": 0, "partial-upfront": 0.01, "no-upfront": 0.04 },
  3: { "all-upfront": 0, "partial-upfront": 0.02, "no-upfront": 0.05 }
}

/** Compute Savings Plans sit this far below the RI discount of the same term and payment (72% vs 66% max). */
export const COMPUTE_SAVINGS_PLAN_GAP = 0.06

/** Share of the term's cost paid up front: AWS partial-upfront RIs pay about half at purchase. */
const UPFRONT_SHARE: Readonly<Record<Payment, number>> = { "all-upfront": 1, "partial-upfront": 0.5, "no-upfront": 0 }

/** Rounds a modelled rate to 1/10,000 of a dollar, as AWS quotes hourly rates. */
const rate = (usd: number): number => Math.round(usd * 10_000) / 10_000

const term = (years: 1 | 3, paymentOption: Payment, offeringClass: CommitmentTerm["offeringClass"], effectiveHourlyUsd: number): CommitmentTerm => {
  const termHours = HOURS_PER_YEAR * years
  const upfrontUsd = Math.round(effectiveHourlyUsd * termHours * UPFRONT_SHARE[paymentOption] * 100) / 100
  const recurringHourlyUsd = rate(effectiveHourlyUsd * (1 - UPFRONT_SHARE[paymentOption]))
  return { years, paymentOption, offeringClass, upfrontUsd, recurringHourlyUsd }
}

export const RESERVED_VARIANTS: ReadonlyArray<readonly [1 | 3, Payment]> = [
  [1, "no-upfront"],
  [1, "partial-upfront"],
  [1, "all-upfront"],
  [3, "no-upfront"],
  [3, "partial-upfront"],
  [3, "all-upfront"]
]

/** The fraction off on-demand the model gives a commitment. */
export const modelledDiscount = (
  instanceType: string,
  years: 1 | 3,
  paymentOption: Payment,
  kind: "reserved" | "savings-plan"
): number => {
  const level = discountLevel(instanceType)
  const base = (years === 1 ? level.oneYear : level.threeYear) - PAYMENT_SPREAD[years][paymentOption]
  return kind === "reserved" ? base : base - COMPUTE_SAVINGS_PLAN_GAP
}

/**
 * Modelled commitment offers for one instance type in one region: standard RIs (1-yr, 3-yr; no, partial and
 * all upfront) and Compute Savings Plans (1-yr, 3-yr; no upfront). Region-wide (`availabilityZone: null`).
 */
export const modelledCommitmentOffers = (instanceType: string, region: string, onDemandUsd: number): ReadonlyArray<Offer> => {
  const offers: Array<Offer> = []
  for (const [years, payment] of RESERVED_VARIANTS) {
    const hourly = rate(onDemandUsd * (1 - modelledDiscount(instanceType, years, payment, "reserved")))
    offers.push(commitmentOffer(instanceType, region, "reserved", hourly, term(years, payment, "standard", hourly)))
  }
  for (const years of [1, 3] as const) {
    const hourly = rate(onDemandUsd * (1 - modelledDiscount(instanceType, years, "no-upfront", "savings-plan")))
    offers.push(commitmentOffer(instanceType, region, "savings-plan", hourly, term(years, "no-upfront", "compute-savings-plan", hourly)))
  }
  return offers
}

const commitmentOffer = (
  instanceType: string,
  region: string,
  purchaseOption: "reserved" | "savings-plan",
  hourlyPriceUsd: number,
  commitment: CommitmentTerm
): Offer => regionalOffer(instanceType, region, purchaseOption, hourlyPriceUsd, { term: commitment, priceIsEstimate: true })
