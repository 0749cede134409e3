import { assert, describe, it } from "@effect/vitest"
import { HOURS_PER_MONTH } from "@frugal/core"
import { DEFAULT_SPOT_EXPOSURE_HOURS, jobMtbfHours, spotRisk } from "../src/SpotRisk.ts"

describe("spotRisk", () => {
  it("reads the <5% bucket's upper edge over the default 12-hour exposure: λ = −ln(0.95)/12", () => {
    const risk = spotRisk(0)
    assert.strictEqual(DEFAULT_SPOT_EXPOSURE_HOURS, 12)
    assert.strictEqual(risk.label, "<5%")
    assert.strictEqual(risk.exposureHours, 12)
    assert.closeTo(risk.interruptionsPerHour, 4.27444e-3, 1e-8)
    assert.closeTo(risk.mtbfHours, 233.95, 0.01)
    assert.isTrue(risk.known)
  })

  it("uses each bucket's upper edge (the feed's max), never the midpoint, and 30% for the open >20% bucket", () => {
    assert.deepStrictEqual([0, 1, 2, 3, 4].map((b) => spotRisk(b).monthlyInterruptionProbability), [0.05, 0.11, 0.16, 0.22, 0.3])
    assert.deepStrictEqual([0, 1, 2, 3, 4].map((b) => Math.round(spotRisk(b).mtbfHours * 10) / 10), [233.9, 103, 68.8, 48.3, 33.6])
    assert.closeTo(spotRisk(4).mtbfHours, 12 / -Math.log(0.7), 1e-9)
  })

  it("is conservative for a multi-day GPU job: a >20% instance expects an interruption within two days", () => {
    assert.isAtLeast(spotRisk(4).interruptionsPerHour * 48, 1)
    // The literal monthly reading would expect 0.02 in the same two days.
    assert.closeTo(spotRisk(4, HOURS_PER_MONTH).interruptionsPerHour * 48, 0.0235, 1e-4)
  })

  it("reproduces the literal monthly reading with a 730-hour exposure", () => {
    assert.closeTo(spotRisk(0, HOURS_PER_MONTH).interruptionsPerHour, 7.0265e-5, 1e-8)
    assert.closeTo(spotRisk(4, HOURS_PER_MONTH).mtbfHours, 2046.7, 0.1)
  })

  it("prices an unknown bucket as the worst one and says it is unknown", () => {
    const unknown = spotRisk(null)
    assert.strictEqual(unknown.label, "unknown (assumed >20%)")
    assert.strictEqual(unknown.bucket, null)
    assert.strictEqual(spotRisk(7).label, "unknown (assumed >20%)")
    assert.isFalse(unknown.known)
    assert.strictEqual(unknown.interruptionsPerHour, spotRisk(4).interruptionsPerHour)
    assert.isFalse(spotRisk(7).known)
  })

  it("adds the rates of every instance in a job: 8 instances interrupt 8 times as often", () => {
    assert.closeTo(jobMtbfHours(spotRisk(2), 8), spotRisk(2).mtbfHours / 8, 1e-9)
  })

  it("gives a higher rate for a shorter exposure, and refuses an exposure that is not a positive number", () => {
    assert.closeTo(spotRisk(1, 6).interruptionsPerHour, 2 * spotRisk(1).interruptionsPerHour, 1e-12)
    assert.throws(() => spotRisk(1, 0), /positive number of hours/)
    assert.throws(() => spotRisk(1, Number.NaN), /positive number of hours/)
  })
})
