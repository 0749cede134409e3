import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { afterAll, beforeAll } from "vitest"
import { CatalogCache } from "../../src/CatalogCache.ts"
import { AwsClients } from "../../src/aws/AwsClients.ts"
import { AwsRetryPolicy } from "../../src/aws/AwsCall.ts"
import { readCached, refreshMarketData } from "../../src/aws/MarketRefresh.ts"
import { type FakeAws, standardRegion, startFakeAws, throttle, useFakeAwsEnvironment } from "../support/FakeAws.ts"

let fake: FakeAws
let cacheDir: string

beforeAll(async () => {
  fake = await startFakeAws(new Map([["us-east-1", standardRegion("us-east-1")], ["us-west-2", standardRegion("us-west-2", 1.1)]]))
  useFakeAwsEnvironment(fake.url)
  cacheDir = await mkdtemp(join(tmpdir(), "frugal-cache-"))
})
afterAll(async () => {
  await fake.close()
  await rm(cacheDir, { recursive: true, force: true })
})

const layers = () =>
  Layer.mergeAll(AwsClients.layer, CatalogCache.layerAt(cacheDir), Layer.succeed(AwsRetryPolicy, { baseDelayMillis: 2, maxDelayMillis: 20, retries: 5 }))

describe("refreshMarketData", () => {
  it.live("fills the cache with on-demand, reserved, savings-plan, spot and score data per region", () =>
    Effect.gen(function*() {
      const summary = yield* refreshMarketData({
        regions: ["us-east-1", "us-west-2"],
        kinds: ["on-demand", "reserved", "savings-plan", "spot", "scores"],
        concurrency: 4,
        spotHistoryHours: 24
      })
      assert.deepStrictEqual(summary.regions.map((r) => r.failures.map((f) => f.message)), [[], []])
      const onDemand = yield* readCached("us-east-1", "on-demand")
      assert.isTrue(Option.isSome(onDemand))
      if (Option.isNone(onDemand)) return
      const p5 = onDemand.value.data.find((rate) => rate.instanceType === "p5.48xlarge")
      assert.strictEqual(p5?.hourlyUsd, 55.04)
      const spot = yield* readCached("us-west-2", "spot")
      if (Option.isNone(spot)) return assert.fail("no spot cached")
      const g5 = spot.value.data.find((m) => m.instanceType === "g5.xlarge" && m.availabilityZoneId === "usw2-az1")
      assert.isDefined(g5)
    }).pipe(Effect.provide(layers())))

  it.live("retries throttling then succeeds", () =>
    Effect.gen(function*() {
      let n = 0
      fake.setFault((request) => (n++ % 3 === 0 ? throttle(request) : undefined))
      const summary = yield* refreshMarketData({
        regions: ["us-east-1"],
        kinds: ["on-demand", "spot"],
        concurrency: 4,
        spotHistoryHours: 24
      })
      fake.setFault(undefined)
      assert.deepStrictEqual(summary.regions[0]?.failures.map((f) => f.message), [])
    }).pipe(Effect.provide(layers())))
})
