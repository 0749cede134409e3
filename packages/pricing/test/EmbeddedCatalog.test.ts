import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { EmbeddedCatalog, PriceCatalog } from "../src/index.ts"

const query = (q?: Parameters<PriceCatalog["Service"]["catalog"]>[0]) =>
  PriceCatalog.use((prices) => prices.catalog(q)).pipe(Effect.provide(EmbeddedCatalog.layer))

describe("EmbeddedCatalog", () => {
  it.effect("says where its prices come from and when, and that commitment rates are estimates", () =>
    Effect.gen(function*() {
      const { source } = yield* query()
      assert.strictEqual(source.kind, "embedded")
      assert.strictEqual(source.asOf, "2026-07-09")
      assert.match(source.description, /SkyPilot AWS catalog \(commit 2c3d7ea\)/)
      assert.isTrue(source.notes.some((note) => /ESTIMATES/.test(note)))
      assert.isTrue(source.notes.some((note) => /2025-06-28/.test(note)))
    }))

  it.effect("notes the Trainium2 memory correction only in answers that offer Trainium2", () =>
    Effect.gen(function*() {
      const trainium2 = (notes: ReadonlyArray<string>) => notes.filter((note) => note.startsWith("Correction: Trainium2 memory"))
      assert.lengthOf(trainium2((yield* query()).source.notes), 1)
      assert.lengthOf(trainium2(EmbeddedCatalog.catalog().source.notes), 1)
      assert.lengthOf(trainium2((yield* query({ regions: ["us-east-2"] })).source.notes), 1)
      assert.lengthOf(trainium2((yield* query({ accelerators: ["trainium2"] })).source.notes), 1)
      // us-east-1 lists trn2 instance types but sells none there in the snapshot.
      const eastOne = yield* query({ regions: ["us-east-1"], purchaseOptions: ["on-demand", "spot"] })
      assert.isTrue(eastOne.instanceTypes.some((type) => type.accelerator === "Trainium2"))
      assert.lengthOf(trainium2(eastOne.source.notes), 0)
      assert.lengthOf(trainium2((yield* query({ accelerators: ["h100"] })).source.notes), 0)
      assert.isTrue(eastOne.source.notes.some((note) => /ESTIMATES/.test(note)))
    }))

  it.effect("serves on-demand per region, spot per AZ with its bucket, and estimated commitments", () =>
    Effect.gen(function*() {
      const catalog = yield* query({ instanceTypes: ["p4d.24xlarge"], regions: ["us-east-1"] })
      const onDemand = catalog.offers.filter((o) => o.purchaseOption === "on-demand")
      assert.deepStrictEqual(onDemand.map((o) => [o.availabilityZone, o.hourlyPriceUsd, o.priceIsEstimate]), [[null, 21.957642, false]])
      const spot = catalog.offers.filter((o) => o.purchaseOption === "spot")
      assert.deepStrictEqual(spot.map((o) => o.availabilityZone), ["use1-az1", "use1-az2", "use1-az4", "use1-az6"])
      assert.isTrue(spot.every((o) => o.interruptionBucket === 2 && !o.priceIsEstimate))
      const commitments = catalog.offers.filter((o) => o.purchaseOption === "reserved" || o.purchaseOption === "savings-plan")
      assert.strictEqual(commitments.length, 8)
      assert.isTrue(commitments.every((o) => o.priceIsEstimate && o.term !== null && o.availabilityZone === null))
      const reserved1y = commitments.find((o) => o.purchaseOption === "reserved" && o.term?.years === 1 && o.term.paymentOption === "all-upfront")
      assert.strictEqual(reserved1y?.hourlyPriceUsd, Math.round(21.957642 * 0.59 * 10_000) / 10_000)
    }))

  it.effect("filters by accelerator (any case), region and purchase option", () =>
    Effect.gen(function*() {
      const catalog = yield* query({ accelerators: ["h100"], regions: ["us-west-2"], purchaseOptions: ["spot"] })
      assert.deepStrictEqual([...new Set(catalog.instanceTypes.map((t) => t.name))].sort(), ["p5.48xlarge", "p5.4xlarge"])
      assert.isAbove(catalog.offers.length, 0)
      assert.isTrue(catalog.offers.every((o) => o.region === "us-west-2" && o.purchaseOption === "spot" && o.instanceType.startsWith("p5.")))
    }))

  it.effect("answers an empty query with the whole catalog", () =>
    Effect.gen(function*() {
      const all = yield* query()
      assert.strictEqual(all.instanceTypes.length, 81)
      const kinds = new Set(all.offers.map((o) => o.purchaseOption))
      assert.deepStrictEqual([...kinds].sort(), ["on-demand", "reserved", "savings-plan", "spot"])
      assert.strictEqual(all.offers.filter((o) => o.purchaseOption === "spot").length, 2269)
      assert.strictEqual(all.offers.filter((o) => o.purchaseOption === "on-demand").length, 872)
    }))
})
