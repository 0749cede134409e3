/**
 * The Price List Query API calls: `GetProducts` for on-demand and reserved rates of GPU instances, and
 * `ListPriceLists` → `GetPriceListFileUrl` → the file itself for Compute Savings Plans rates.
 */
import {
  type Filter,
  GetPriceListFileUrlCommand,
  type GetProductsCommandOutput,
  type ListPriceListsCommandOutput,
  paginateGetProducts,
  paginateListPriceLists
} from "@aws-sdk/client-pricing"
import { Clock, Effect, Predicate, Result, Stream } from "effect"
import { AwsClients } from "./AwsClients.ts"
import { awsCall, AwsCallFailed, awsPages } from "./AwsCall.ts"
import type { CommitmentRate, OnDemandRate } from "./MarketData.ts"
import { parsePriceListItem } from "./PriceListItem.ts"
import { parseSavingsPlanPriceList } from "./SavingsPlanPriceList.ts"

/**
 * Linux, shared tenancy, no pre-installed software, capacity actually used (not reservation placeholders),
 * the on-demand market (not Capacity Blocks), GPU instance families. Attribute names and values are AWS's
 * (`aws pricing get-attribute-values --service-code AmazonEC2 --attribute-name instanceFamily`).
 */
export const gpuProductFilters = (region: string): Array<Filter> => [
  { Type: "TERM_MATCH", Field: "regionCode", Value: region },
  { Type: "TERM_MATCH", Field: "operatingSystem", Value: "Linux" },
  { Type: "TERM_MATCH", Field: "tenancy", Value: "Shared" },
  { Type: "TERM_MATCH", Field: "preInstalledSw", Value: "NA" },
  { Type: "TERM_MATCH", Field: "capacitystatus", Value: "Used" },
  { Type: "TERM_MATCH", Field: "marketoption", Value: "OnDemand" },
  { Type: "TERM_MATCH", Field: "instanceFamily", Value: "GPU instance" }
]

export interface ProductRates {
  readonly onDemand: ReadonlyArray<OnDemandRate>
  readonly reserved: ReadonlyArray<CommitmentRate>
  readonly malformedItems: number
  readonly skippedItems: number
}

/** The SDK types `PriceList` loosely (JSON strings, possibly wrapped); each entry is read as its JSON text. */
const priceListTexts = (page: GetProductsCommandOutput): ReadonlyArray<string> => {
  const list: unknown = page.PriceList
  if (!Array.isArray(list)) return []
  return list.map((item: unknown) => (Predicate.isString(item) ? item : String(item)))
}

/** Every GPU product page of a region, as a Stream. */
export const gpuProductPages = (region: string): Stream.Stream<GetProductsCommandOutput, AwsCallFailed, AwsClients> =>
  Stream.unwrap(Effect.map(AwsClients, ({ pricing }) =>
    awsPages(
      { service: "Pricing", operation: "GetProducts", region },
      (startingToken, abortSignal) =>
        paginateGetProducts(
          { client: pricing, pageSize: 100, ...(startingToken === undefined ? {} : { startingToken }) },
          { ServiceCode: "AmazonEC2", FormatVersion: "aws_v1", Filters: gpuProductFilters(region) },
          { abortSignal }
        ),
      (page) => page.NextToken
    )))

/** On-demand and reserved rates of a region's GPU instances. Malformed items are skipped with a warning. */
export const fetchProductRates = (region: string): Effect.Effect<ProductRates, AwsCallFailed, AwsClients> =>
  Effect.gen(function*() {
    const onDemand: Array<OnDemandRate> = []
    const reserved: Array<CommitmentRate> = []
    let malformedItems = 0
    let skippedItems = 0
    yield* gpuProductPages(region).pipe(
      Stream.flatMap((page) => Stream.fromIterable(priceListTexts(page))),
      Stream.runForEach((text) =>
        Effect.gen(function*() {
          const parsed = parsePriceListItem(text)
          switch (parsed._tag) {
            case "Malformed":
              malformedItems++
              return yield* Effect.logWarning(`skipping a malformed Pricing API item in ${region}: ${parsed.reason}`)
            case "Skipped":
              skippedItems++
              return
            case "Rates": {
              const { rates } = parsed
              if (rates.regionCode !== region) return
              if (rates.onDemandHourlyUsd !== null) {
                onDemand.push({
                  instanceType: rates.instanceType,
                  hourlyUsd: rates.onDemandHourlyUsd,
                  vcpus: rates.attributes.vcpus,
                  memoryGiB: rates.attributes.memoryGiB,
                  gpus: rates.attributes.gpus,
                  gpuMemoryGiB: rates.attributes.gpuMemoryGiB
                })
              }
              for (const rate of rates.reserved) {
                reserved.push({ instanceType: rates.instanceType, term: rate.term, hourlyUsd: rate.effectiveHourlyUsd })
              }
            }
          }
        })
      )
    )
    // Every item malformed is a broken answer, not an empty price list: fail, so nothing replaces the cache.
    if (malformedItems > 0 && onDemand.length === 0 && reserved.length === 0) {
      return yield* new AwsCallFailed({
        service: "Pricing",
        operation: "GetProducts",
        region,
        errorName: "MalformedAnswer",
        attempts: 1,
        retryable: false,
        detail: `all ${malformedItems} price-list item(s) in the answer were malformed`
      })
    }
    return { onDemand, reserved, malformedItems, skippedItems }
  })

/** The savings-plan price list for AWS's Compute Savings Plans (covers EC2 Instance Savings Plans too). */
export const SAVINGS_PLAN_SERVICE_CODE = "AWSComputeSavingsPlan"

const httpError = (status: number, url: string) =>
  Object.assign(new Error(`GET ${url.split("?")[0] ?? url} answered HTTP ${status}`), {
    name: "PriceListFileHttpError",
    $metadata: { httpStatusCode: status }
  })

/** Compute Savings Plans rates of `region` for the instance types `isWanted` accepts. */
export const fetchSavingsPlanRates = (
  region: string,
  isWanted: (instanceType: string) => boolean
): Effect.Effect<{ readonly rates: ReadonlyArray<CommitmentRate>; readonly origin: string }, AwsCallFailed, AwsClients> =>
  Effect.gen(function*() {
    const { pricing } = yield* AwsClients
    const now = new Date(yield* Clock.currentTimeMillis)
    const lists = yield* awsPages(
      { service: "Pricing", operation: "ListPriceLists", region },
      (startingToken, abortSignal) =>
        paginateListPriceLists(
          { client: pricing, ...(startingToken === undefined ? {} : { startingToken }) },
          { ServiceCode: SAVINGS_PLAN_SERVICE_CODE, EffectiveDate: now, CurrencyCode: "USD", RegionCode: region },
          { abortSignal }
        ),
      (page: ListPriceListsCommandOutput) => page.NextToken
    ).pipe(
      Stream.flatMap((page) => Stream.fromIterable(page.PriceLists ?? [])),
      Stream.runCollect
    )
    const list = lists.find((candidate) =>
      (candidate.RegionCode === undefined || candidate.RegionCode === region) &&
      (candidate.FileFormats ?? []).some((format) => format.toLowerCase() === "json")
    )
    if (list?.PriceListArn === undefined) {
      return yield* new AwsCallFailed({
        service: "Pricing",
        operation: "ListPriceLists",
        region,
        errorName: "NoPriceList",
        attempts: 1,
        retryable: false,
        detail: `no ${SAVINGS_PLAN_SERVICE_CODE} price list in JSON for ${region}`
      })
    }
    const arn = list.PriceListArn
    const url = yield* awsCall(
      { service: "Pricing", operation: "GetPriceListFileUrl", region },
      (abortSignal) => pricing.send(new GetPriceListFileUrlCommand({ PriceListArn: arn, FileFormat: "json" }), { abortSignal })
    )
    const fileUrl = url.Url
    if (fileUrl === undefined) {
      return yield* new AwsCallFailed({
        service: "Pricing",
        operation: "GetPriceListFileUrl",
        region,
        errorName: "NoUrl",
        attempts: 1,
        retryable: false,
        detail: `no URL for ${arn}`
      })
    }
    const text = yield* awsCall({ service: "PriceListFile", operation: "GET", region }, async (signal) => {
      const response = await fetch(fileUrl, { signal })
      if (!response.ok) throw httpError(response.status, fileUrl)
      return response.text()
    })
    const parsed = parseSavingsPlanPriceList(text, region, isWanted)
    if (Result.isFailure(parsed)) {
      return yield* new AwsCallFailed({
        service: "PriceListFile",
        operation: "GET",
        region,
        errorName: "MalformedPriceList",
        attempts: 1,
        retryable: false,
        detail: parsed.failure
      })
    }
    return {
      rates: parsed.success.map((rate) => ({ instanceType: rate.instanceType, term: rate.term, hourlyUsd: rate.effectiveHourlyUsd })),
      origin: arn
    }
  })
