import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { afterAll, beforeAll } from "vitest"
import { awsJsonError, throttlingException } from "../../../../test/support/aws/AwsJson.ts"
import { ec2Error, requestLimitExceeded } from "../../../../test/support/aws/Ec2Query.ts"
import { seededRandom } from "../../../../test/support/aws/LoopbackServer.ts"
import { CatalogCache } from "../../src/CatalogCache.ts"
import { AwsClients } from "../../src/aws/AwsClients.ts"
import { AwsRetryPolicy, toRemoteServiceFailure } from "../../src/aws/AwsCall.ts"
import { REFRESHABLE_KINDS, type RefreshableKind } from "../../src/aws/MarketData.ts"
import { readCached, refreshMarketData } from "../../src/aws/MarketRefresh.ts"
import {
  type FakeAws,
  type ProductFixture,
  type RegionFixture,
  standardRegion,
  startFakeAws,
  throttle,
  useFakeAwsEnvironment
} from "../support/FakeAws.ts"

const TEN_REGIONS = [
  "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1",
  "ap-northeast-1", "ap-southeast-1", "ap-south-1", "ca-central-1", "sa-east-1"
]

const malformedRegion = (): RegionFixture => {
  const region = standardRegion("eu-west-1")
  const windows: ProductFixture = { instanceType: "g5.xlarge", onDemandUsd: 2.5, operatingSystem: "Windows" }
  const capacityBlock: ProductFixture = { instanceType: "p5.48xlarge", onDemandUsd: 31.464, marketOption: "CapacityBlock", usageTypePrefix: "CapacityBlock" }
  region.products = [
    ...region.products,
    "{\"product\": {\"attributes\": {\"instanceType\": \"p5.48xlarge\"", // cut off mid-object
    JSON.stringify({ product: { attributes: { instanceType: "g6.xlarge", regionCode: "eu-west-1" } }, terms: { OnDemand: { x: { priceDimensions: { y: { unit: "Hrs" } } } } } }),
    windows,
    capacityBlock
  ]
  return region
}

const market = new Map<string, RegionFixture>([
  ...TEN_REGIONS.map((region, index): [string, RegionFixture] => [region, standardRegion(region, 1 + index / 100)]),
  ["eu-west-1", malformedRegion()],
  ["eu-west-3", standardRegion("eu-west-3")],
  ["il-central-1", { products: [], zones: [], instanceTypes: [], spot: [], scores: [], savingsPlans: [] }]
])

let fake: FakeAws
let cacheDir: string

beforeAll(async () => {
  fake = await startFakeAws(market, { productPageSize: 2, spotPageSize: 4 })
  useFakeAwsEnvironment(fake.url)
  cacheDir = await mkdtemp(join(tmpdir(), "frugal-refresh-"))
})
afterAll(async () => {
  await fake.close()
  await rm(cacheDir, { recursive: true, force: true })
})

const RETRIES = 5
const layers = () =>
  Layer.mergeAll(
    AwsClients.layer,
    CatalogCache.layerAt(cacheDir),
    Layer.succeed(AwsRetryPolicy, { baseDelayMillis: 2, maxDelayMillis: 20, retries: RETRIES })
  )

const refresh = (regions: ReadonlyArray<string>, kinds: ReadonlyArray<RefreshableKind> = REFRESHABLE_KINDS) =>
  refreshMarketData({ regions, kinds, concurrency: 8, spotHistoryHours: 24 })

const callsFor = (operation: string, region: string) =>
  fake.calls.filter((call) => call.startsWith(`${operation} ${region}`)).length

describe("refreshMarketData against the loopback AWS", () => {
  it.live("pages through GetProducts, DescribeInstanceTypes and spot history and keeps every item", () =>
    Effect.gen(function*() {
      fake.calls.length = 0
      const summary = yield* refresh(["us-east-1"])
      assert.deepStrictEqual(summary.regions[0]?.failures, [])
      // 5 products at 2 a page, 5 types at 3 a page, 30 spot points at 4 a page.
      assert.strictEqual(callsFor("GetProducts", "us-east-1"), 3)
      assert.strictEqual(callsFor("DescribeInstanceTypes", "us-east-1"), 2)
      assert.strictEqual(callsFor("DescribeSpotPriceHistory", "us-east-1"), 8)
      const onDemand = Option.getOrThrow(yield* readCached("us-east-1", "on-demand")).data
      assert.deepStrictEqual(
        onDemand.map((rate) => [rate.instanceType, rate.hourlyUsd]).sort(),
        [["g5.xlarge", 1.006], ["g6.xlarge", 0.8048], ["g6e.xlarge", 1.861], ["p4d.24xlarge", 21.9576], ["p5.48xlarge", 55.04]]
      )
      const types = Option.getOrThrow(yield* readCached("us-east-1", "instance-types")).data
      assert.deepStrictEqual(
        types.instanceTypes.map((type) => `${type.name}:${type.accelerator}x${type.acceleratorCount}:${type.acceleratorMemoryGiB}`).sort(),
        ["g5.xlarge:A10Gx1:24", "g6.xlarge:L4x1:22.494140625", "g6e.xlarge:L40Sx1:44.98828125", "p4d.24xlarge:A100-40GBx8:40", "p5.48xlarge:H100x8:80"]
      )
      const spot = Option.getOrThrow(yield* readCached("us-east-1", "spot")).data
      const p5 = spot.find((market) => market.instanceType === "p5.48xlarge" && market.availabilityZoneId === "use1-az2")
      // Latest price per AZ (0.35 × 55.04), the older 20%-higher point only in the history statistics.
      assert.strictEqual(p5?.latestUsd, 19.264)
      assert.strictEqual(p5?.availabilityZone, "us-east-1b")
      assert.strictEqual(p5?.maxUsd, 23.1168)
      assert.isAbove(p5?.volatility ?? 0, 0)
      const scores = Option.getOrThrow(yield* readCached("us-east-1", "scores")).data
      assert.deepStrictEqual(
        scores.filter((score) => score.instanceType === "g6e.xlarge").map((score) => [score.availabilityZoneId, score.score]),
        [["use1-az1", 9], ["use1-az2", 6], ["use1-az3", 3]]
      )
    }).pipe(Effect.provide(layers())))

  it.live("reserved terms carry the exact effective hourly rate: upfront over 8,760 h a year plus the hourly fee", () =>
    Effect.gen(function*() {
      yield* refresh(["us-east-1"], ["reserved", "savings-plan"])
      const reserved = Option.getOrThrow(yield* readCached("us-east-1", "reserved")).data
      const p5 = reserved.filter((rate) => rate.instanceType === "p5.48xlarge")
      const allUpfront = p5.find((rate) => rate.term.years === 1 && rate.term.paymentOption === "all-upfront")
      assert.deepStrictEqual(allUpfront?.term, { years: 1, paymentOption: "all-upfront", offeringClass: "standard", upfrontUsd: 289290, recurringHourlyUsd: 0 })
      assert.strictEqual(allUpfront?.hourlyUsd, 289290 / 8760)
      const partial = p5.find((rate) => rate.term.years === 3)
      assert.deepStrictEqual(partial?.term, { years: 3, paymentOption: "partial-upfront", offeringClass: "convertible", upfrontUsd: 361613, recurringHourlyUsd: 11.008 })
      assert.closeTo(partial?.hourlyUsd ?? 0, 361613 / 26280 + 11.008, 1e-12)
      const noUpfront = p5.find((rate) => rate.term.paymentOption === "no-upfront")
      assert.strictEqual(noUpfront?.hourlyUsd, 35.2256)
      const plans = Option.getOrThrow(yield* readCached("us-east-1", "savings-plan")).data
      // Linux rates only (the Windows `RunInstances:0002` rates in the same file are ignored).
      assert.deepStrictEqual(
        plans.rates.filter((rate) => rate.instanceType === "g6e.xlarge").map((rate) => [rate.term.years, rate.term.paymentOption, rate.hourlyUsd, rate.term.upfrontUsd]),
        [[1, "no-upfront", 1.3399, 0], [3, "all-upfront", 0.8375, 0.8375 * 26280]]
      )
      assert.match(plans.origin, /AWSComputeSavingsPlan\/USD\/.*\/us-east-1$/)
    }).pipe(Effect.provide(layers())))

  it.live("retries ThrottlingException and HTTP 503 with backoff, then succeeds", () =>
    Effect.gen(function*() {
      let pricingFaults = 0
      let ec2Faults = 0
      fake.setFault((_request, operation, region) => {
        if (region !== "us-east-2") return undefined
        if (operation === "GetProducts" && pricingFaults < 3) {
          pricingFaults++
          return pricingFaults === 2 ? awsJsonError("ServiceUnavailableException", "Service Unavailable", 503) : throttlingException()
        }
        if (operation === "DescribeSpotPriceHistory" && ec2Faults < 2) {
          ec2Faults++
          return ec2Faults === 1 ? requestLimitExceeded() : ec2Error("Unavailable", "The server is overloaded", 503)
        }
        return undefined
      })
      const summary = yield* refresh(["us-east-2"], ["on-demand", "spot"]).pipe(Effect.ensuring(Effect.sync(() => fake.setFault(undefined))))
      assert.strictEqual(pricingFaults, 3)
      assert.strictEqual(ec2Faults, 2)
      assert.deepStrictEqual(summary.regions[0]?.failures, [])
      const onDemand = Option.getOrThrow(yield* readCached("us-east-2", "on-demand")).data
      assert.strictEqual(onDemand.find((rate) => rate.instanceType === "p4d.24xlarge")?.hourlyUsd, 22.1772)
      const spot = Option.getOrThrow(yield* readCached("us-east-2", "spot")).data
      assert.strictEqual(spot.length, 15)
    }).pipe(Effect.provide(layers())))

  it.live("a region that keeps failing is reported by region and call; the other regions are refreshed", () =>
    Effect.gen(function*() {
      fake.setFault((_request, operation, region) =>
        region === "eu-west-3" && operation !== "GET price list file" ? awsJsonError("InternalFailure", "boom", 500) : undefined
      )
      const summary = yield* refresh(["eu-west-3", "us-west-2"], ["on-demand"]).pipe(Effect.ensuring(Effect.sync(() => fake.setFault(undefined))))
      const [failing, healthy] = summary.regions
      assert.deepStrictEqual(healthy?.failures, [])
      assert.strictEqual(healthy?.items["on-demand"], 5)
      const failure = failing?.failures.find((f) => f.operation === "GetProducts")
      assert.deepStrictEqual(
        { region: failure?.region, service: failure?.service, attempts: failure?.attempts, retryable: failure?.retryable },
        { region: "eu-west-3", service: "Pricing", attempts: RETRIES + 1, retryable: true }
      )
      assert.isUndefined(failing?.items["on-demand"])
      const remote = failure === undefined ? undefined : toRemoteServiceFailure(failure)
      assert.strictEqual(remote?._tag, "RemoteServiceFailure")
      assert.match(remote?.message ?? "", /^AWS Pricing GetProducts in eu-west-3 failed: InternalFailure/)
      assert.isTrue(Option.isNone(yield* readCached("eu-west-3", "on-demand")))
    }).pipe(Effect.provide(layers())))

  it.live("keeps every kind it fetched when AWS publishes no savings-plan price list for a region, and names the one it could not", () =>
    Effect.gen(function*() {
      // ListPriceLists answers, but with no Compute Savings Plans list for the region.
      fake.setFault((_request, operation, region) =>
        operation === "ListPriceLists" && region === "ca-central-1"
          ? { status: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: JSON.stringify({ PriceLists: [] }) }
          : undefined
      )
      const summary = yield* refresh(["ca-central-1"]).pipe(Effect.ensuring(Effect.sync(() => fake.setFault(undefined))))
      const [region] = summary.regions
      assert.strictEqual(summary.status, "partial")
      assert.deepStrictEqual(region?.failedKinds.map(({ kind, error }) => [kind, error.errorName]), [["savings-plan", "NoPriceList"]])
      assert.match(region?.failedKinds[0]?.error.message ?? "", /no AWSComputeSavingsPlan price list in JSON for ca-central-1/)
      // Everything else was written: on-demand, reserved and spot prices of the region are in the cache.
      assert.deepStrictEqual(Object.keys(region?.items ?? {}).sort(), ["instance-types", "on-demand", "reserved", "scores", "spot"])
      assert.strictEqual(Option.getOrThrow(yield* readCached("ca-central-1", "on-demand")).data.length, 5)
      assert.isAbove(Option.getOrThrow(yield* readCached("ca-central-1", "spot")).data.length, 0)
      assert.isTrue(Option.isNone(yield* readCached("ca-central-1", "savings-plan")))
    }).pipe(Effect.provide(layers())))

  it.live("calls a refresh failed, not partial, when none of the kinds asked for could be fetched", () =>
    Effect.gen(function*() {
      fake.setFault((_request, operation, region) =>
        region === "sa-east-1" && operation === "GetProducts" ? awsJsonError("AccessDeniedException", "no", 400) : undefined
      )
      const summary = yield* refresh(["sa-east-1"], ["on-demand", "reserved"]).pipe(Effect.ensuring(Effect.sync(() => fake.setFault(undefined))))
      assert.strictEqual(summary.status, "failed")
      assert.deepStrictEqual(summary.regions[0]?.failedKinds.map(({ kind }) => kind), ["on-demand", "reserved"])
      const complete = yield* refresh(["sa-east-1"], ["on-demand"])
      assert.strictEqual(complete.status, "complete")
    }).pipe(Effect.provide(layers())))

  it.live("skips malformed PriceList JSON, Windows and Capacity Block SKUs and keeps the good items", () =>
    Effect.gen(function*() {
      const summary = yield* refresh(["eu-west-1"], ["on-demand"])
      assert.strictEqual(summary.regions[0]?.malformedItems, 2)
      assert.deepStrictEqual(summary.regions[0]?.failures, [])
      const onDemand = Option.getOrThrow(yield* readCached("eu-west-1", "on-demand")).data
      assert.deepStrictEqual(
        onDemand.map((rate) => [rate.instanceType, rate.hourlyUsd]).sort(),
        [["g5.xlarge", 1.006], ["g6.xlarge", 0.8048], ["g6e.xlarge", 1.861], ["p4d.24xlarge", 21.9576], ["p5.48xlarge", 55.04]]
      )
    }).pipe(Effect.provide(layers())))

  it.live("an empty region refreshes to empty data, not a failure", () =>
    Effect.gen(function*() {
      const summary = yield* refresh(["il-central-1"], ["on-demand", "spot", "scores"])
      assert.deepStrictEqual(summary.regions[0]?.failures, [])
      assert.strictEqual(summary.regions[0]?.offers, 0)
      assert.deepStrictEqual(Option.getOrThrow(yield* readCached("il-central-1", "on-demand")).data, [])
      assert.deepStrictEqual(Option.getOrThrow(yield* readCached("il-central-1", "spot")).data, [])
    }).pipe(Effect.provide(layers())))

  it.live("with 30% of requests throttled, a refresh of 10 regions completes with every price", () =>
    Effect.gen(function*() {
      const random = seededRandom(30)
      let throttled = 0
      fake.setFault((request) => {
        if (random() >= 0.3) return undefined
        throttled++
        return throttle(request)
      })
      const summary = yield* refreshMarketData({ regions: TEN_REGIONS, kinds: REFRESHABLE_KINDS, concurrency: 10, spotHistoryHours: 24 }).pipe(
        Effect.provide(Layer.succeed(AwsRetryPolicy, { baseDelayMillis: 2, maxDelayMillis: 20, retries: 10 })),
        Effect.ensuring(Effect.sync(() => fake.setFault(undefined)))
      )
      assert.isAbove(throttled, 20)
      assert.deepStrictEqual(summary.regions.flatMap((region) => region.failures.map((failure) => failure.message)), [])
      // 5 on-demand + 15 reserved + 10 savings-plan + 15 spot offers per region.
      assert.deepStrictEqual(summary.regions.map((region) => region.offers), TEN_REGIONS.map(() => 45))
      const apSouth = Option.getOrThrow(yield* readCached("ap-south-1", "on-demand")).data
      assert.strictEqual(apSouth.find((rate) => rate.instanceType === "g6.xlarge")?.hourlyUsd, 0.8611)
    }).pipe(Effect.provide(layers())))
})
