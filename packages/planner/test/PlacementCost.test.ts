import { assert, describe, it } from "@effect/vitest"
import { spotRisk } from "@frugal/pricing"
import { commitmentCharge, interRegionTransferUsdPerGB, spotRun, spotServing } from "../src/index.ts"

describe("placement cost arithmetic", () => {
  it("expects more wall-clock hours on spot than the base hours, growing with instances and risk", () => {
    const low = spotRun(100, 1, spotRisk(0), 0.02, 0.1)
    const high = spotRun(100, 1, spotRisk(4), 0.02, 0.1)
    const wide = spotRun(100, 16, spotRisk(4), 0.02, 0.1)
    assert.isAbove(low.expectedHours, 100)
    assert.isAbove(high.expectedHours, low.expectedHours)
    assert.isAbove(wide.expectedHours, high.expectedHours)
    // Young's interval √(2δM) with M the job's MTBF: 16 instances → M / 16 → τ / 4.
    assert.closeTo(wide.checkpointEveryHours, high.checkpointEveryHours / 4, 1e-9)
    assert.closeTo(wide.expectedInterruptions, wide.expectedHours / wide.jobMtbfHours, 1e-12)
  })

  it("never checkpoints less often than once per job", () => {
    assert.strictEqual(spotRun(2, 1, spotRisk(0), 0.01, 0.1).checkpointEveryHours, 2)
  })

  it("keeps a service's hours on spot and reports its interruptions per month", () => {
    // Two >20% replicas for a month: 2 × 730 h × −ln(0.7)/12 h = 43.4 replacements (the literal reading: 0.71).
    const run = spotServing(730, 2, spotRisk(4))
    assert.strictEqual(run.expectedHours, 730)
    assert.closeTo(run.expectedInterruptions, (2 * 730 * -Math.log(0.7)) / 12, 1e-9)
    assert.closeTo(spotServing(730, 2, spotRisk(4, 730)).expectedInterruptions, 2 * -Math.log(0.7), 1e-9)
  })

  it("charges a commitment for its whole term, in whole terms", () => {
    const short = commitmentCharge({ hours: 72, perMonth: false, instances: 2, years: 1, effectiveHourlyUsd: 10, onDemandHourlyUsd: 20 })
    assert.deepStrictEqual(short, { costUsd: 8760 * 2 * 10, paidHours: 8760, utilization: 72 / 8760, breakEvenUtilization: 0.5, terms: 1 })
    const long = commitmentCharge({ hours: 10_000, perMonth: false, instances: 1, years: 1, effectiveHourlyUsd: 10, onDemandHourlyUsd: null })
    assert.strictEqual(long.terms, 2)
    assert.strictEqual(long.costUsd, 2 * 8760 * 10)
    assert.isNull(long.breakEvenUtilization)
    const service = commitmentCharge({ hours: 365, perMonth: true, instances: 1, years: 3, effectiveHourlyUsd: 4, onDemandHourlyUsd: 10 })
    assert.deepStrictEqual(service, { costUsd: 730 * 4, paidHours: 730, utilization: 0.5, breakEvenUtilization: 0.4, terms: 1 })
  })

  it("prices inter-region transfer by the region the data leaves", () => {
    assert.strictEqual(interRegionTransferUsdPerGB("us-east-1", "us-east-1"), 0)
    assert.strictEqual(interRegionTransferUsdPerGB("us-east-1", "eu-west-1"), 0.02)
    assert.strictEqual(interRegionTransferUsdPerGB("eu-central-1", "us-west-2"), 0.02)
    assert.strictEqual(interRegionTransferUsdPerGB("ap-northeast-1", "us-west-2"), 0.09)
  })
})
