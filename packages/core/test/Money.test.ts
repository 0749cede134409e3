import { assert, describe, it } from "@effect/vitest"
import { costUsd, effectiveHourlyUsd, formatUsd, HOURS_PER_MONTH, roundUsd, savingFraction } from "../src/Money.ts"

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

  it("computes cost, saving and effective commitment rates", () => {
    assert.strictEqual(costUsd(98.32, HOURS_PER_MONTH), 98.32 * 730)
    assert.strictEqual(savingFraction(100, 30), 0.7)
    assert.strictEqual(savingFraction(0, 30), 0)
    assert.approximately(effectiveHourlyUsd(8760, 1, 1), 2, 1e-12)
  })
})
