import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { parsePriceListItem } from "../../src/aws/PriceListItem.ts"
import { summarizeSpotHistory } from "../../src/aws/SpotHistory.ts"
import { priceListItem } from "../support/FakeAws.ts"

describe("parsePriceListItem", () => {
  it.effect("reads the on-demand price and every reserved term of a GetProducts item", () =>
    Effect.sync(() => {
      const parsed = parsePriceListItem(priceListItem("us-east-1", {
        instanceType: "p4d.24xlarge",
        onDemandUsd: 21.9576,
        reserved: [
          { years: 3, offeringClass: "standard", payment: "All Upfront", upfrontUsd: 235_000, hourlyUsd: 0 },
          { years: 1, offeringClass: "convertible", payment: "Partial Upfront", upfrontUsd: 60_000, hourlyUsd: 6.85 }
        ]
      }))
      assert.strictEqual(parsed._tag, "Rates")
      if (parsed._tag !== "Rates") return
      assert.strictEqual(parsed.rates.onDemandHourlyUsd, 21.9576)
      assert.deepStrictEqual(parsed.rates.reserved.map((r) => [r.term.years, r.term.offeringClass, r.term.paymentOption, r.effectiveHourlyUsd]), [
        [3, "standard", "all-upfront", 235_000 / 26_280],
        [1, "convertible", "partial-upfront", 60_000 / 8760 + 6.85]
      ])
      assert.deepStrictEqual(parsed.rates.attributes, { vcpus: 96, memoryGiB: 1152, gpus: 8, gpuMemoryGiB: 320 })
    }))

  it.effect("skips Windows and Capacity Block SKUs and tags broken JSON as malformed", () =>
    Effect.sync(() => {
      assert.strictEqual(parsePriceListItem(priceListItem("us-east-1", { instanceType: "g5.xlarge", onDemandUsd: 1.6, operatingSystem: "Windows" }))._tag, "Skipped")
      assert.strictEqual(
        parsePriceListItem(priceListItem("us-east-1", { instanceType: "p5.48xlarge", onDemandUsd: 31.4, marketOption: "CapacityBlock", usageTypePrefix: "CapacityBlock" }))._tag,
        "Skipped"
      )
      assert.strictEqual(parsePriceListItem("{\"product\": {")._tag, "Malformed")
      assert.strictEqual(parsePriceListItem(JSON.stringify({ product: { attributes: {} }, terms: {} }))._tag, "Malformed")
    }))
})

describe("summarizeSpotHistory", () => {
  it.effect("keeps the latest price per AZ (mapped to its ID) and a time-weighted mean and volatility", () =>
    Effect.sync(() => {
      const at = (iso: string) => new Date(iso)
      const [market] = summarizeSpotHistory(
        [
          { instanceType: "g5.xlarge", availabilityZone: "us-east-1a", availabilityZoneId: undefined, priceUsd: 0.4, at: at("2026-11-23T00:00:00Z") },
          { instanceType: "g5.xlarge", availabilityZone: "us-east-1a", availabilityZoneId: undefined, priceUsd: 0.3, at: at("2026-11-23T18:00:00Z") }
        ],
        new Map([["us-east-1a", "use1-az4"]]),
        at("2026-11-24T00:00:00Z")
      )
      assert.strictEqual(market?.availabilityZoneId, "use1-az4")
      assert.strictEqual(market?.latestUsd, 0.3)
      // 18 h at 0.40 and 6 h at 0.30: mean 0.375, standard deviation √(0.75·0.25)·0.1.
      assert.closeTo(market?.meanUsd ?? 0, 0.375, 1e-12)
      assert.closeTo(market?.volatility ?? 0, Math.sqrt(0.75 * 0.25) * 0.1 / 0.375, 1e-12)
    }))
})
