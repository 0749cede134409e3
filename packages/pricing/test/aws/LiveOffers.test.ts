import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { catalog as embeddedCatalog } from "../../src/EmbeddedCatalog.ts"
import { groupRegionNotes } from "../../src/aws/AwsCatalog.ts"
import { regionOffers } from "../../src/aws/LiveOffers.ts"

const fetchedAt = "2026-11-23T06:00:00.000Z"

describe("regionOffers", () => {
  it.effect("live on-demand with no commitment data: modelled commitments from the live price, snapshot spot, and Trainium kept once", () =>
    Effect.sync(() => {
      const embedded = embeddedCatalog()
      const result = regionOffers({
        region: "us-east-1",
        metadata: undefined,
        onDemand: { data: [{ instanceType: "p5.48xlarge", hourlyUsd: 50, vcpus: 192, memoryGiB: 2048, gpus: 8, gpuMemoryGiB: 640 }], fetchedAt, origin: "cache" },
        reserved: undefined,
        savingsPlans: undefined,
        spot: undefined,
        scores: undefined
      }, embedded)
      const p5 = result.offers.filter((o) => o.instanceType === "p5.48xlarge")
      assert.deepStrictEqual(p5.filter((o) => o.purchaseOption === "on-demand").map((o) => o.hourlyPriceUsd), [50])
      const reserved = p5.filter((o) => o.purchaseOption === "reserved")
      assert.isTrue(reserved.length > 0 && reserved.every((o) => o.priceIsEstimate && o.hourlyPriceUsd < 50))
      assert.isTrue(p5.some((o) => o.purchaseOption === "spot"))
      const trn = result.offers.filter((o) => o.instanceType === "trn1.32xlarge" && o.purchaseOption === "spot")
      const zones = trn.map((o) => o.availabilityZone)
      assert.isTrue(zones.length > 0)
      assert.strictEqual(new Set(zones).size, zones.length)
      assert.isTrue(result.usedEmbedded)
      assert.deepStrictEqual(result.used, [{ fetchedAt, origin: "cache" }])
    }))

  it.effect("groups the same note across regions", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(groupRegionNotes(["us-west-2: no live spot prices.", "us-east-1: no live spot prices.", "other"], 5), [
        "us-east-1, us-west-2: no live spot prices.",
        "other"
      ])
      assert.deepStrictEqual(
        groupRegionNotes(["a-b-1: x", "a-b-2: x", "a-b-3: x", "a-b-4: x"].map((n) => n.replace("a-b", "eu-west")), 4),
        ["all 4 regions: x"]
      )
    }))
})
