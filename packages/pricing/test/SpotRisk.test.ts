import { assert, describe, it } from "@effect/vitest"
import { HOURS_PER_MONTH } from "@frugal/core"
import { jobMtbfHours, spotRisk } from "../src/SpotRisk.ts"

describe("spotRisk", () => {
  it("turns the <5% bucket into a Poisson rate over a 730-hour month: λ = −ln(0.95)/730", () => {
    const risk = spotRisk(0)
    assert.strictEqual(risk.label, "<5%")
    assert.closeTo(risk.interruptionsPerHour, 7.0265e-5, 1e-8)
    assert.closeTo(risk.mtbfHours, 14_231.6, 0.5)
    assert.isTrue(risk.known)
  })

  it("uses the feed's upper bounds, and 30% for the open >20% bucket", () => {
    assert.deepStrictEqual([0, 1, 2, 3, 4].map((b) => spotRisk(b).monthlyInterruptionProbability), [0.05, 0.11, 0.16, 0.22, 0.3])
    assert.closeTo(spotRisk(4).mtbfHours, HOURS_PER_MONTH / -Math.log(0.7), 1e-9)
    assert.closeTo(spotRisk(4).mtbfHours, 2046.7, 0.1)
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

  it("gives a higher rate for a shorter exposure", () => {
    assert.isAbove(spotRisk(1, 168).interruptionsPerHour, spotRisk(1).interruptionsPerHour)
  })
})
