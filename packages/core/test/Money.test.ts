import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { costUsd, effectiveHourlyUsd, formatUsd, formatUsdPerHour, HOURS_PER_MONTH, roundUsd, savingFraction } from "../src/Money.ts"

describe("Money", () => {
  it("rounds to cents half away from zero", () => {
    assert.strictEqual(roundUsd(1.005), 1.01)
    assert.strictEqual(roundUsd(-1.005), -1.01)
    assert.strictEqual(roundUsd(98.32 * 3), 294.96)
    assert.strictEqual(roundUsd(1e-9), 0)
    assert.strictEqual(roundUsd(1e21), 1e21)
  })

  it("formats dollars for tables", () => {
    assert.strictEqual(formatUsd(1234.567), "$1,234.57")
    assert.strictEqual(formatUsd(250_000.4), "$250,000")
    assert.strictEqual(formatUsd(Number.NaN), "n/a")
  })

  // Except for -0, which Intl writes "-$0.00" and this "$0.00", as the planner's reasons always have.
  it("writes an amount exactly as Intl's en-US currency format does, without Intl", () => {
    const cents = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 })
    const whole = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 })
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }).filter((value) => !Object.is(value, -0)), (value) => {
        assert.strictEqual(formatUsd(value), Math.abs(value) >= 100_000 ? whole.format(value) : cents.format(value))
      }),
      { numRuns: 5000 }
    )
  })

  it("writes table cells to the precision their size needs", () => {
    assert.strictEqual(formatUsd(0, "glance"), "$0")
    assert.strictEqual(formatUsd(0.5261, "glance"), "$0.526")
    assert.strictEqual(formatUsd(99.994, "glance"), "$99.99")
    assert.strictEqual(formatUsd(1234.5, "glance"), "$1,235")
    assert.strictEqual(formatUsd(-1234.5, "glance"), "-$1,235")
  })

  it("writes an hourly price with the decimals AWS quotes, never fewer than cents", () => {
    assert.strictEqual(formatUsdPerHour(6.6), "$6.60/h")
    assert.strictEqual(formatUsdPerHour(2.5037), "$2.5037/h")
    assert.strictEqual(formatUsdPerHour(12.345), "$12.345/h")
    assert.strictEqual(formatUsdPerHour(0.001), "$0.001/h")
    assert.strictEqual(formatUsdPerHour(1234.5), "$1,234.50/h")
    assert.strictEqual(formatUsdPerHour(55.04, "glance"), "$55.04/h")
  })

  it("computes cost, saving and effective commitment rates", () => {
    assert.strictEqual(costUsd(98.32, HOURS_PER_MONTH), 98.32 * 730)
    assert.strictEqual(savingFraction(100, 30), 0.7)
    assert.strictEqual(savingFraction(0, 30), 0)
    assert.approximately(effectiveHourlyUsd(8760, 1, 1), 2, 1e-12)
  })
})
