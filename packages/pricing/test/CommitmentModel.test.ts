import { assert, describe, it } from "@effect/vitest"
import { HOURS_PER_YEAR } from "@frugal/core"
import { discountLevel, modelledCommitmentOffers, modelledDiscount } from "../src/CommitmentModel.ts"

describe("CommitmentModel", () => {
  it("models p4d from the AWS P4 page: 41% off for 1-yr all upfront, 65% for 3-yr", () => {
    assert.strictEqual(modelledDiscount("p4d.24xlarge", 1, "all-upfront", "reserved"), 0.41)
    assert.strictEqual(modelledDiscount("p4d.24xlarge", 3, "all-upfront", "reserved"), 0.65)
    assert.closeTo(modelledDiscount("p4d.24xlarge", 1, "no-upfront", "reserved"), 0.37, 1e-12)
    assert.closeTo(modelledDiscount("p4d.24xlarge", 3, "no-upfront", "savings-plan"), 0.54, 1e-12)
  })

  it("makes eight estimated region-wide offers whose terms add up to the effective rate", () => {
    const offers = modelledCommitmentOffers("p4d.24xlarge", "us-east-1", 20)
    assert.strictEqual(offers.length, 8)
    for (const offer of offers) {
      assert.isTrue(offer.priceIsEstimate)
      assert.isNull(offer.availabilityZone)
      assert.isNotNull(offer.term)
      if (offer.term === null) continue
      const hours = HOURS_PER_YEAR * offer.term.years
      assert.closeTo(offer.term.upfrontUsd / hours + offer.term.recurringHourlyUsd, offer.hourlyPriceUsd, 1e-3)
    }
    const allUpfront1y = offers.find((o) => o.purchaseOption === "reserved" && o.term?.years === 1 && o.term.paymentOption === "all-upfront")
    assert.strictEqual(allUpfront1y?.hourlyPriceUsd, 11.8) // 20 × (1 − 0.41)
    assert.strictEqual(allUpfront1y?.term?.upfrontUsd, 11.8 * 8760)
    assert.deepStrictEqual(offers.filter((o) => o.purchaseOption === "savings-plan").map((o) => o.term?.offeringClass), [
      "compute-savings-plan",
      "compute-savings-plan"
    ])
  })

  it("falls back to the lowest published level for a family it does not know", () => {
    assert.strictEqual(discountLevel("x9.metal").basis, "lowest published GPU level")
    assert.strictEqual(discountLevel("g6e.xlarge").oneYear, discountLevel("g5.xlarge").oneYear)
  })
})
