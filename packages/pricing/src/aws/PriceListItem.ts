/**
 * One `PriceList` entry of the Pricing API's `GetProducts` (service `AmazonEC2`, format `aws_v1`): a JSON
 * string holding the product's attributes and its `OnDemand` and `Reserved` terms. Decoded with Schema,
 * then reduced to the rates Frugal prices with. Pure: data in, data out.
 *
 * Shape (AWS Billing user guide, "Reading the service price list file for a service"):
 * `{ product: { sku, attributes: { instanceType, regionCode, operatingSystem, tenancy, ... } },
 *    terms: { OnDemand: { <sku.offerTermCode>: { priceDimensions: { <rateCode>: { unit, pricePerUnit: { USD } } },
 *             termAttributes: {} } },
 *             Reserved: { ...: { priceDimensions: {...}, termAttributes: { LeaseContractLength, OfferingClass, PurchaseOption } } } } }`
 */
import { Result, Schema } from "effect"
import type { CommitmentTerm } from "@frugal/core"
import { HOURS_PER_YEAR } from "@frugal/core"

const PriceDimension = Schema.Struct({
  unit: Schema.String,
  description: Schema.optionalKey(Schema.String),
  pricePerUnit: Schema.Record(Schema.String, Schema.String)
})

const Term = Schema.Struct({
  priceDimensions: Schema.Record(Schema.String, PriceDimension),
  termAttributes: Schema.optionalKey(Schema.Record(Schema.String, Schema.String))
})

export const PriceListItem = Schema.Struct({
  product: Schema.Struct({
    sku: Schema.optionalKey(Schema.String),
    productFamily: Schema.optionalKey(Schema.String),
    attributes: Schema.Record(Schema.String, Schema.String)
  }),
  terms: Schema.Struct({
    OnDemand: Schema.optionalKey(Schema.Record(Schema.String, Term)),
    Reserved: Schema.optionalKey(Schema.Record(Schema.String, Term))
  }),
  publicationDate: Schema.optionalKey(Schema.String)
})
export type PriceListItem = typeof PriceListItem.Type

/** What the AWS product attributes say about the instance, kept for types `DescribeInstanceTypes` did not answer. */
export interface ProductAttributes {
  readonly vcpus: number | null
  readonly memoryGiB: number | null
  readonly gpus: number | null
  readonly gpuMemoryGiB: number | null
}

export interface ReservedRate {
  readonly term: CommitmentTerm
  /** (upfront / term hours) + recurring hourly. */
  readonly effectiveHourlyUsd: number
}

/** The rates one price-list item contributes: an on-demand price and any number of reserved terms. */
export interface InstanceRates {
  readonly instanceType: string
  readonly regionCode: string
  readonly onDemandHourlyUsd: number | null
  readonly reserved: ReadonlyArray<ReservedRate>
  readonly attributes: ProductAttributes
}

export type ParsedItem =
  | { readonly _tag: "Rates"; readonly rates: InstanceRates }
  | { readonly _tag: "Skipped"; readonly reason: string }
  | { readonly _tag: "Malformed"; readonly reason: string }


const decodeItem = Schema.decodeUnknownResult(Schema.fromJsonString(PriceListItem))

const numberOrNull = (text: string | undefined): number | null => {
  if (text === undefined) return null
  const match = /([0-9]+(?:\.[0-9]+)?)/.exec(text.replace(/,/g, ""))
  return match?.[1] === undefined ? null : Number(match[1])
}

const usd = (dimension: typeof PriceDimension.Type): number | null => {
  const text = dimension.pricePerUnit["USD"]
  if (text === undefined) return null
  const value = Number(text)
  return Number.isFinite(value) && value >= 0 ? value : null
}

const LEASE_YEARS: Readonly<Record<string, 1 | 3>> = { "1yr": 1, "3yr": 3, "1 yr": 1, "3 yr": 3 }
const PAYMENT: Readonly<Record<string, CommitmentTerm["paymentOption"]>> = {
  "No Upfront": "no-upfront",
  "Partial Upfront": "partial-upfront",
  "All Upfront": "all-upfront"
}
const OFFERING_CLASS: Readonly<Record<string, CommitmentTerm["offeringClass"]>> = {
  standard: "standard",
  convertible: "convertible"
}

/** A reserved term: an `Hrs` dimension (recurring) and, for partial/all upfront, a `Quantity` dimension (upfront fee). */
const reservedRate = (term: typeof Term.Type): Result.Result<ReservedRate, string> => {
  const attributes = term.termAttributes ?? {}
  const years = LEASE_YEARS[attributes["LeaseContractLength"] ?? ""]
  const paymentOption = PAYMENT[attributes["PurchaseOption"] ?? ""]
  const offeringClass = OFFERING_CLASS[attributes["OfferingClass"] ?? ""]
  if (years === undefined || paymentOption === undefined || offeringClass === undefined) {
    return Result.fail(`reserved term with unknown attributes ${JSON.stringify(attributes)}`)
  }
  let upfrontUsd = 0
  let recurringHourlyUsd = 0
  for (const dimension of Object.values(term.priceDimensions)) {
    const value = usd(dimension)
    if (value === null) return Result.fail(`reserved price dimension without a USD price`)
    if (dimension.unit === "Quantity") upfrontUsd += value
    else if (dimension.unit === "Hrs") recurringHourlyUsd += value
    else return Result.fail(`reserved price dimension in unknown unit ${dimension.unit}`)
  }
  // AWS amortises a reserved term over 8,760-hour years (EC2 Reserved Instances pricing: "effective hourly rate").
  const effectiveHourlyUsd = upfrontUsd / (years * HOURS_PER_YEAR) + recurringHourlyUsd
  return Result.succeed({
    term: { years, paymentOption, offeringClass, upfrontUsd, recurringHourlyUsd },
    effectiveHourlyUsd
  })
}

/** Why an item is not a Linux, shared-tenancy, on-demand-market instance price (or null when it is). */
const skipReason = (attributes: Readonly<Record<string, string>>): string | null => {
  const usageType = attributes["usagetype"] ?? ""
  const market = attributes["marketoption"]
  if (market !== undefined && market !== "OnDemand") return `market option ${market}`
  if (/CapacityBlock/i.test(usageType) || /capacity block/i.test(attributes["capacitystatus"] ?? "")) {
    return "Capacity Block SKU"
  }
  const os = attributes["operatingSystem"]
  if (os !== undefined && os !== "Linux") return `operating system ${os}`
  const software = attributes["preInstalledSw"]
  if (software !== undefined && software !== "NA") return `pre-installed software ${software}`
  const tenancy = attributes["tenancy"]
  if (tenancy !== undefined && tenancy !== "Shared") return `tenancy ${tenancy}`
  const capacity = attributes["capacitystatus"]
  if (capacity !== undefined && capacity !== "Used") return `capacity status ${capacity}`
  return null
}

/** Parses one `PriceList` string. Never throws: malformed items come back tagged, for a warning. */
export const parsePriceListItem = (text: string): ParsedItem => {
  const decoded = decodeItem(text)
  if (Result.isFailure(decoded)) {
    return { _tag: "Malformed", reason: decoded.failure.message.slice(0, 300) }
  }
  const item = decoded.success
  const attributes = item.product.attributes
  const instanceType = attributes["instanceType"]
  const regionCode = attributes["regionCode"]
  if (instanceType === undefined || regionCode === undefined) {
    return { _tag: "Malformed", reason: "product.attributes has no instanceType or regionCode" }
  }
  const skip = skipReason(attributes)
  if (skip !== null) return { _tag: "Skipped", reason: `${instanceType}: ${skip}` }

  let onDemandHourlyUsd: number | null = null
  for (const term of Object.values(item.terms.OnDemand ?? {})) {
    for (const dimension of Object.values(term.priceDimensions)) {
      if (dimension.unit !== "Hrs") continue
      const value = usd(dimension)
      // A zero on-demand price marks a SKU that is listed but not sold on demand; it is not a price.
      if (value !== null && value > 0) onDemandHourlyUsd = value
    }
  }
  const reserved: Array<ReservedRate> = []
  for (const term of Object.values(item.terms.Reserved ?? {})) {
    const rate = reservedRate(term)
    if (Result.isFailure(rate)) return { _tag: "Malformed", reason: `${instanceType}: ${rate.failure}` }
    reserved.push(rate.success)
  }
  return {
    _tag: "Rates",
    rates: {
      instanceType,
      regionCode,
      onDemandHourlyUsd,
      reserved,
      attributes: {
        vcpus: numberOrNull(attributes["vcpu"]),
        memoryGiB: numberOrNull(attributes["memory"]),
        gpus: numberOrNull(attributes["gpu"]),
        gpuMemoryGiB: numberOrNull(attributes["gpuMemory"])
      }
    }
  }
}

/** The instance family of a type name: `p5` for `p5.48xlarge`, `p6-b200` for `p6-b200.48xlarge`. */
export const instanceFamily = (instanceType: string): string => instanceType.split(".")[0] ?? instanceType

