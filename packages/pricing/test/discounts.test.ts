import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Offer } from "@frugal/core"
import { accountPricedCatalog, applyAccountPricing, parseAccountPricing } from "../src/AccountPricing.ts"
import { catalog as embeddedCatalog } from "../src/EmbeddedCatalog.ts"
import { type Catalog, PriceCatalog } from "../src/PriceCatalog.ts"

const offer = (instanceType: string, purchaseOption: Offer["purchaseOption"], hourlyPriceUsd: number, zone: string | null = null): Offer => ({
  instanceType,
  region: "us-east-1",
  availabilityZone: zone,
  purchaseOption,
  hourlyPriceUsd,
  term: purchaseOption === "reserved"
    ? { years: 1, paymentOption: "partial-upfront", offeringClass: "standard", upfrontUsd: 100_000, recurringHourlyUsd: 20 }
    : null,
  priceIsEstimate: false,
  interruptionBucket: null,
  placementScore: null
})

describe("account pricing", () => {
  it.effect("a family discount, then the enterprise discount, scale price and term alike", () =>
    Effect.sync(() => {
      const [onDemand, reserved] = applyAccountPricing(
        [offer("p5.48xlarge", "on-demand", 55.04), offer("p5.48xlarge", "reserved", 31.4155)],
        { enterpriseDiscountPct: 10, privateRates: { p5: { discountPct: 20 } } }
      )
      assert.strictEqual(onDemand?.hourlyPriceUsd, 39.6288)
      assert.strictEqual(reserved?.hourlyPriceUsd, 22.61916)
      assert.deepStrictEqual(reserved?.term, { years: 1, paymentOption: "partial-upfront", offeringClass: "standard", upfrontUsd: 72_000, recurringHourlyUsd: 14.4 })
    }))

  it.effect("an exact-type negotiated rate wins over its family's discount", () =>
    Effect.sync(() => {
      const [rate] = applyAccountPricing([offer("g6e.12xlarge", "on-demand", 10.493)], {
        privateRates: { g6e: { discountPct: 50 }, "g6e.12xlarge": { onDemandHourlyUsd: 7.1 } }
      })
      assert.strictEqual(rate?.hourlyPriceUsd, 7.1)
    }))

  it.effect("the spot cap keeps spot no cheaper than the cap below the account's on-demand price", () =>
    Effect.sync(() => {
      const out = applyAccountPricing(
        [offer("g5.xlarge", "on-demand", 1.006), offer("g5.xlarge", "spot", 0.2, "use1-az1"), offer("g5.xlarge", "spot", 0.7, "use1-az2")],
        { spotDiscountCapPct: 60 }
      )
      assert.deepStrictEqual(out.map((o) => o.hourlyPriceUsd), [1.006, 0.4024, 0.7])
    }))

  it.effect("a bad config names the field and what was expected", () =>
    Effect.gen(function*() {
      const error = yield* parseAccountPricing("enterpriseDiscountPct: 140\nprivateRates:\n  p5: { discount: 3 }\n", "pricing.yaml").pipe(Effect.flip)
      assert.strictEqual(error._tag, "InvalidInput")
      assert.strictEqual(error.source, "pricing.yaml")
      const paths = error.issues.map((issue) => issue.path)
      assert.includeMembers(paths, ["enterpriseDiscountPct", "privateRates.p5.discount"])
      assert.match(error.message, /enterpriseDiscountPct: expected a percentage between 0 and 100, got 140/)
    }))

  it.effect("wrapped around any catalog, the spot cap still sees on-demand prices when the query asks for spot only", () =>
    Effect.gen(function*() {
      const listed: Catalog = {
        source: { kind: "embedded", asOf: "2026-07-09", description: "test snapshot", notes: [] },
        instanceTypes: embeddedCatalog().instanceTypes.filter((type) => type.name === "g5.xlarge"),
        offers: [offer("g5.xlarge", "on-demand", 1.0), offer("g5.xlarge", "spot", 0.2, "use1-az1")]
      }
      const asked: Array<ReadonlyArray<string> | undefined> = []
      const inner = PriceCatalog.of({
        catalog: (query) =>
          Effect.sync(() => {
            asked.push(query?.purchaseOptions)
            return listed
          })
      })
      const priced = accountPricedCatalog(inner, { path: "pricing.yaml", pricing: { enterpriseDiscountPct: 10, spotDiscountCapPct: 50 } })
      const spotOnly = yield* priced.catalog({ purchaseOptions: ["spot"] })
      assert.deepStrictEqual(asked, [["spot", "on-demand"]])
      // on-demand 1.0 × 0.9 = 0.9; spot 0.2 × 0.9 = 0.18 is below the cap's floor of 0.45.
      assert.deepStrictEqual(spotOnly.offers.map((o) => [o.purchaseOption, o.hourlyPriceUsd]), [["spot", 0.45]])
      assert.strictEqual(spotOnly.source.description, "test snapshot, with account pricing applied")
      assert.deepStrictEqual(spotOnly.source.notes, [
        "Account pricing from pricing.yaml applied on top of list prices: enterprise discount 10% on every price; spot counted at most 50% below on-demand."
      ])
    }))
})
