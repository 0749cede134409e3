import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll } from "vitest"
import { startSilentServer } from "../../../../test/support/aws/Faults.ts"
import { CatalogCache } from "../../src/CatalogCache.ts"
import { PriceCatalog } from "../../src/PriceCatalog.ts"
import { AwsClients } from "../../src/aws/AwsClients.ts"
import { AwsRetryPolicy, AwsTimeouts } from "../../src/aws/AwsCall.ts"
import { make } from "../../src/aws/AwsCatalog.ts"
import { marketDataSchema } from "../../src/aws/MarketData.ts"
import { cacheKey, refreshMarketData } from "../../src/aws/MarketRefresh.ts"
import { type FakeAws, standardRegion, startFakeAws, useFakeAwsEnvironment } from "../support/FakeAws.ts"

let fake: FakeAws
let root: string

beforeAll(async () => {
  fake = await startFakeAws(new Map([["us-east-1", standardRegion("us-east-1")], ["us-west-2", standardRegion("us-west-2")]]))
  root = await mkdtemp(join(tmpdir(), "frugal-awscatalog-"))
})
afterAll(async () => {
  await fake.close()
  await rm(root, { recursive: true, force: true })
})

const catalogIn = (cacheDir: string, options: Parameters<typeof make>[0] = {}) =>
  Layer.effect(PriceCatalog, make(options)).pipe(
    Layer.provide(Layer.mergeAll(
      AwsClients.layer,
      CatalogCache.layerAt(cacheDir),
      Layer.succeed(AwsRetryPolicy, { baseDelayMillis: 2, maxDelayMillis: 10, retries: 2 })
    ))
  )

/** A port nothing listens on: connections are refused, as when AWS cannot be reached. */
const UNREACHABLE = "http://127.0.0.1:9"

describe("AwsCatalog", () => {
  it.live("answers from AWS, then from its cache without calling AWS again, and says which", () =>
    Effect.gen(function*() {
      useFakeAwsEnvironment(fake.url)
      const cacheDir = join(root, "fresh")
      const first = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog({ regions: ["us-east-1"] })).pipe(Effect.provide(catalogIn(cacheDir)))
      assert.strictEqual(first.source.kind, "aws")
      assert.match(first.source.description, /fetched now/)
      const onDemand = first.offers.find((o) => o.instanceType === "p5.48xlarge" && o.purchaseOption === "on-demand")
      assert.strictEqual(onDemand?.hourlyPriceUsd, 55.04)
      assert.strictEqual(onDemand?.priceIsEstimate, false)
      const reserved = first.offers.find((o) => o.instanceType === "p5.48xlarge" && o.purchaseOption === "reserved" && o.term?.paymentOption === "all-upfront")
      assert.strictEqual(reserved?.hourlyPriceUsd, 289290 / 8760)
      assert.strictEqual(reserved?.priceIsEstimate, false)
      const plan = first.offers.find((o) => o.instanceType === "g5.xlarge" && o.purchaseOption === "savings-plan" && o.term?.years === 1)
      assert.deepStrictEqual([plan?.hourlyPriceUsd, plan?.term?.offeringClass], [0.7243, "compute-savings-plan"])
      const spot = first.offers.find((o) => o.instanceType === "g6e.xlarge" && o.purchaseOption === "spot" && o.availabilityZone === "use1-az1")
      // Live price per AZ ID, placement score from GetSpotPlacementScores, advisor bucket from the snapshot.
      assert.strictEqual(spot?.hourlyPriceUsd, 0.5583)
      // Placement scores are opt-in (`frugal prices refresh --kinds scores`): AWS limits how many it answers a day.
      assert.strictEqual(spot?.placementScore, null)
      assert.isNotNull(spot?.interruptionBucket)
      assert.includeMembers(first.instanceTypes.map((t) => t.name), ["p5.48xlarge", "g6e.xlarge"])

      const callsBefore = fake.calls.length
      const second = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog({ regions: ["us-east-1"] })).pipe(Effect.provide(catalogIn(cacheDir)))
      assert.strictEqual(fake.calls.length, callsBefore)
      assert.strictEqual(second.source.kind, "cache")
      assert.strictEqual(second.source.asOf, first.source.asOf)
      assert.deepStrictEqual(second.offers, first.offers)
    }))

  it.live("falls back to a stale cache when AWS is unreachable, and says so", () =>
    Effect.gen(function*() {
      const cacheDir = join(root, "stale")
      const cache = yield* Effect.provide(Effect.map(CatalogCache, (service) => service), CatalogCache.layerAt(cacheDir))
      const threeDaysAgo = "2026-01-01T00:00:00.000Z"
      yield* cache.write(cacheKey("us-west-2", "on-demand"), marketDataSchema("on-demand"), {
        fetchedAt: threeDaysAgo,
        data: [{ instanceType: "p4d.24xlarge", hourlyUsd: 20.5, vcpus: 96, memoryGiB: 1152, gpus: 8, gpuMemoryGiB: 320 }]
      })
      useFakeAwsEnvironment(UNREACHABLE)
      const answer = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog({ regions: ["us-west-2"] })).pipe(Effect.provide(catalogIn(cacheDir)))
      useFakeAwsEnvironment(fake.url)
      assert.strictEqual(answer.source.kind, "cache")
      assert.strictEqual(answer.source.asOf, threeDaysAgo)
      assert.isTrue(answer.source.notes.some((note) => /AWS unreachable for us-west-2/.test(note)))
      assert.isTrue(answer.source.notes.some((note) => /on-demand data is stale/.test(note)))
      assert.isTrue(answer.source.notes.some((note) => /reserved offers are ESTIMATES/.test(note)))
      const p4d = answer.offers.find((o) => o.instanceType === "p4d.24xlarge" && o.purchaseOption === "on-demand")
      assert.strictEqual(p4d?.hourlyPriceUsd, 20.5)
      // Reserved rates modelled from the cached on-demand price, marked as estimates.
      const reserved = answer.offers.filter((o) => o.instanceType === "p4d.24xlarge" && o.purchaseOption === "reserved")
      assert.isTrue(reserved.length > 0 && reserved.every((o) => o.priceIsEstimate && o.hourlyPriceUsd < 20.5))
    }))

  it.live("falls back to the embedded snapshot when AWS is unreachable and nothing is cached", () =>
    Effect.gen(function*() {
      useFakeAwsEnvironment(UNREACHABLE)
      const answer = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog({ regions: ["us-east-1"], accelerators: ["H100"] })).pipe(
        Effect.provide(catalogIn(join(root, "empty")))
      )
      useFakeAwsEnvironment(fake.url)
      assert.strictEqual(answer.source.kind, "embedded")
      assert.match(answer.source.description, /embedded snapshot/)
      assert.isTrue(answer.source.notes.some((note) => /AWS unreachable for us-east-1 \((EC2|Pricing) [A-Za-z]+: .*ECONNREFUSED/.test(note)))
      assert.isTrue(answer.offers.some((o) => o.instanceType === "p5.48xlarge" && o.purchaseOption === "on-demand"))
    }))

  it.live("answers from the embedded snapshot within its time budget when AWS accepts connections and never answers", () =>
    Effect.gen(function*() {
      const silent = yield* Effect.acquireRelease(Effect.promise(() => startSilentServer()), (s) => Effect.promise(() => s.close()))
      useFakeAwsEnvironment(silent.url)
      // Attempts would go on for a minute each; the query waits 1.5 s for all regions together.
      const slow = Layer.succeed(AwsTimeouts, { connectTimeoutMillis: 5_000, requestTimeoutMillis: 60_000, callDeadlineMillis: 120_000 })
      const answer = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog({ regions: ["us-east-1", "us-west-2"], accelerators: ["H100"] })).pipe(
        Effect.provide(Layer.effect(PriceCatalog, make({ refreshBudgetMillis: 1_500 })).pipe(
          Layer.provide(Layer.mergeAll(AwsClients.layer, CatalogCache.layerAt(join(root, "silent")), slow)),
          Layer.provide(slow)
        ))
      )
      useFakeAwsEnvironment(fake.url)
      assert.strictEqual(answer.source.kind, "embedded")
      assert.include(answer.source.notes.join("\n"), "AWS did not finish answering within 1.5 s; what had not arrived came from the cache or the embedded snapshot.")
      assert.isTrue(answer.offers.some((o) => o.instanceType === "p5.48xlarge" && o.region === "us-west-2"))
      assert.isAtLeast(silent.connections(), 1)
    }).pipe(Effect.scoped))

  it.live("spot offers carry the placement score once scores have been refreshed", () =>
    Effect.gen(function*() {
      useFakeAwsEnvironment(fake.url)
      const cacheDir = join(root, "scores")
      yield* refreshMarketData({ regions: ["us-west-2"], kinds: ["spot", "scores"], concurrency: 2, spotHistoryHours: 24 }).pipe(
        Effect.provide(Layer.mergeAll(AwsClients.layer, CatalogCache.layerAt(cacheDir)))
      )
      const answer = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog({ regions: ["us-west-2"], purchaseOptions: ["spot"] })).pipe(
        Effect.provide(catalogIn(cacheDir))
      )
      assert.deepStrictEqual(
        answer.offers.filter((o) => o.instanceType === "p4d.24xlarge").map((o) => [o.availabilityZone, o.placementScore]),
        [["usw2-az1", 9], ["usw2-az2", 6], ["usw2-az3", 3]]
      )
    }))

  it.live("applies account pricing on top of list prices and names it in the notes", () =>
    Effect.gen(function*() {
      useFakeAwsEnvironment(fake.url)
      const answer = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog({ regions: ["us-east-1"], instanceTypes: ["p5.48xlarge"] })).pipe(
        Effect.provide(catalogIn(join(root, "fresh"), {
          accountPricing: { path: "pricing.yaml", pricing: { enterpriseDiscountPct: 10, privateRates: { p5: { discountPct: 20 } } } }
        }))
      )
      const onDemand = answer.offers.find((o) => o.purchaseOption === "on-demand")
      assert.closeTo(onDemand?.hourlyPriceUsd ?? 0, 55.04 * 0.8 * 0.9, 1e-6)
      assert.isTrue(answer.source.notes.some((note) => /pricing.yaml.*p5 \(-20%\).*enterprise discount 10%/.test(note)))
    }))
})
