/**
 * The Compute Savings Plans price list file (service code `AWSComputeSavingsPlan`, JSON format), found with
 * the Pricing API's `ListPriceLists` and `GetPriceListFileUrl`. Pure: the file's text in, GPU rates out.
 *
 * Shape (AWS Billing user guide, "Reading the service price list file for a Savings Plan"):
 * `{ regionCode, products: [{ sku, productFamily, attributes: { purchaseOption, purchaseTerm } }],
 *    terms: { savingsPlan: [{ sku, leaseContractLength: { duration, unit },
 *      rates: [{ discountedUsageType, discountedOperation, discountedRegionCode, discountedInstanceType,
 *                discountedRate: { price, currency } }] }] } }`
 */
import { Result, Schema } from "effect"
import type { CommitmentTerm } from "@frugal/core"
import { HOURS_PER_YEAR } from "@frugal/core"

const Rate = Schema.Struct({
  discountedUsageType: Schema.optionalKey(Schema.String),
  discountedOperation: Schema.optionalKey(Schema.String),
  discountedServiceCode: Schema.optionalKey(Schema.String),
  discountedRegionCode: Schema.optionalKey(Schema.String),
  discountedInstanceType: Schema.optionalKey(Schema.String),
  discountedRate: Schema.Struct({ price: Schema.String, currency: Schema.String })
})

export const SavingsPlanPriceListFile = Schema.Struct({
  regionCode: Schema.optionalKey(Schema.String),
  publicationDate: Schema.optionalKey(Schema.String),
  products: Schema.Array(Schema.Struct({
    sku: Schema.String,
    productFamily: Schema.optionalKey(Schema.String),
    attributes: Schema.Record(Schema.String, Schema.String)
  })),
  terms: Schema.Struct({
    savingsPlan: Schema.Array(Schema.Struct({
      sku: Schema.String,
      leaseContractLength: Schema.optionalKey(Schema.Struct({ duration: Schema.Number, unit: Schema.String })),
      rates: Schema.Array(Rate)
    }))
  })
})

export interface SavingsPlanRate {
  readonly instanceType: string
  readonly term: CommitmentTerm
  /** USD per instance-hour under the plan, as AWS lists it. */
  readonly effectiveHourlyUsd: number
}

const PAYMENT: Readonly<Record<string, CommitmentTerm["paymentOption"]>> = {
  "No Upfront": "no-upfront",
  "Partial Upfront": "partial-upfront",
  "All Upfront": "all-upfront"
}

const FAMILY: Readonly<Record<string, CommitmentTerm["offeringClass"]>> = {
  ComputeSavingsPlans: "compute-savings-plan",
  EC2InstanceSavingsPlans: "instance-savings-plan"
}

/**
 * A plan's listed rate is already the effective hourly price. How it is paid: no upfront is all recurring;
 * all upfront is the whole term paid at purchase; partial upfront pays half at purchase (AWS Savings Plans
 * user guide: "Partial Upfront … at least half of your commitment upfront"), the rest hourly.
 */
export const savingsPlanTerm = (
  years: 1 | 3,
  paymentOption: CommitmentTerm["paymentOption"],
  offeringClass: CommitmentTerm["offeringClass"],
  effectiveHourlyUsd: number
): CommitmentTerm => {
  const termHours = years * HOURS_PER_YEAR
  switch (paymentOption) {
    case "no-upfront":
      return { years, paymentOption, offeringClass, upfrontUsd: 0, recurringHourlyUsd: effectiveHourlyUsd }
    case "all-upfront":
      return { years, paymentOption, offeringClass, upfrontUsd: effectiveHourlyUsd * termHours, recurringHourlyUsd: 0 }
    case "partial-upfront":
      return {
        years,
        paymentOption,
        offeringClass,
        upfrontUsd: (effectiveHourlyUsd * termHours) / 2,
        recurringHourlyUsd: effectiveHourlyUsd / 2
      }
  }
}

const decodeFile = Schema.decodeUnknownResult(Schema.fromJsonString(SavingsPlanPriceListFile))

/**
 * Linux, shared-tenancy (`BoxUsage`, operation `RunInstances`) rates of `instanceTypes` in `region`.
 * Fails with a message when the file is not a savings-plan price list.
 */
export const parseSavingsPlanPriceList = (
  text: string,
  region: string,
  isWanted: (instanceType: string) => boolean
): Result.Result<ReadonlyArray<SavingsPlanRate>, string> => {
  const decoded = decodeFile(text)
  if (Result.isFailure(decoded)) return Result.fail(decoded.failure.message.slice(0, 300))
  const file = decoded.success
  const products = new Map(file.products.map((product) => [product.sku, product]))
  const out: Array<SavingsPlanRate> = []
  for (const plan of file.terms.savingsPlan) {
    const product = products.get(plan.sku)
    if (product === undefined) continue
    const offeringClass = FAMILY[product.productFamily ?? ""]
    const paymentOption = PAYMENT[product.attributes["purchaseOption"] ?? ""]
    const years = plan.leaseContractLength?.duration ?? (product.attributes["purchaseTerm"] === "3yr" ? 3 : 1)
    if (offeringClass === undefined || paymentOption === undefined || (years !== 1 && years !== 3)) continue
    for (const rate of plan.rates) {
      if (rate.discountedOperation !== "RunInstances") continue
      if (rate.discountedRegionCode !== undefined && rate.discountedRegionCode !== region) continue
      const usageType = rate.discountedUsageType ?? ""
      const boxUsage = /BoxUsage:(.+)$/.exec(usageType)
      const instanceType = rate.discountedInstanceType ?? boxUsage?.[1]
      if (boxUsage === null || instanceType === undefined || !isWanted(instanceType)) continue
      const price = Number(rate.discountedRate.price)
      if (rate.discountedRate.currency !== "USD" || !Number.isFinite(price) || price <= 0) continue
      out.push({ instanceType, term: savingsPlanTerm(years, paymentOption, offeringClass, price), effectiveHourlyUsd: price })
    }
  }
  return Result.succeed(out)
}
