import { assert, describe, it } from "@effect/vitest"
import { HOURS_PER_MONTH } from "@frugal/core"
import { DEFAULT_SPOT_EXPOSURE_HOURS, jobMtbfHours, MIN_STATED_INTERRUPTIONS_PER_HOUR, spotRisk, statedSpotRisk } from "../src/SpotRisk.ts"

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

describe("statedSpotRisk", () => {
  it("takes a stated 0.05 reclaims per hour as λ itself: MTBF 20 h, and P(reclaim within 12 h) = 1 − e^(−0.6) = 45.1%", () => {
    const risk = statedSpotRisk(0.05)
    assert.strictEqual(risk.label, "stated 0.05/h")
    assert.strictEqual(risk.interruptionsPerHour, 0.05)
    assert.closeTo(risk.mtbfHours, 20, 1e-12)
    assert.closeTo(risk.monthlyInterruptionProbability, 0.451188, 1e-6)
    assert.strictEqual(risk.exposureHours, 12)
    assert.isTrue(risk.known)
    assert.isTrue(risk.stated)
    assert.strictEqual(risk.bucket, null)
    assert.isFalse(spotRisk(2).stated)
  })

  it("round-trips with the bucket reading: a stated rate equal to a bucket's λ gives that bucket's probability", () => {
    const bucket = spotRisk(3, 24)
    assert.closeTo(statedSpotRisk(bucket.interruptionsPerHour, 24).monthlyInterruptionProbability, 0.22, 1e-12)
  })

  it("reads the same whatever the exposure, since the rate is stated, not a share", () => {
    assert.strictEqual(statedSpotRisk(0.1, 6).interruptionsPerHour, statedSpotRisk(0.1, 730).interruptionsPerHour)
    assert.closeTo(statedSpotRisk(0.1, 730).monthlyInterruptionProbability, 1 - Math.exp(-73), 1e-12)
  })

  it("prices a stated 0 at one reclaim per million hours, labelled as stated, and refuses a negative rate", () => {
    const never = statedSpotRisk(0)
    assert.strictEqual(never.label, "stated 0/h")
    assert.strictEqual(never.interruptionsPerHour, MIN_STATED_INTERRUPTIONS_PER_HOUR)
    assert.isTrue(Number.isFinite(never.mtbfHours))
    assert.strictEqual(statedSpotRisk(0.123456).label, "stated 0.123/h")
    assert.throws(() => statedSpotRisk(-0.1), /at least 0/)
    assert.throws(() => statedSpotRisk(Number.NaN), /at least 0/)
  })
})
