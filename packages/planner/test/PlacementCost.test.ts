import { assert, describe, it } from "@effect/vitest"
import { spotRisk } from "@frugal/pricing"
import {
  billedHours,
  commitmentCharge,
  DEFAULT_COST_ASSUMPTIONS,
  interRegionTransferUsdPerGB,
  launchTime,
  MINIMUM_BILLED_HOURS,
  spotRun,
  spotServing
} from "../src/index.ts"
import { workload } from "./fixtures.ts"

const launch = (relaunchHours: number, firstLaunchHours = relaunchHours) => ({
  startHours: firstLaunchHours,
  dataHours: 0,
  modelHours: 0,
  relaunchHours,
  firstLaunchHours
})
const run = (baseHours: number, instances: number, bucket: number, writeHours: number, restartHours: number, availability = 1) =>
  spotRun({
    baseHours,
    instances,
    risk: spotRisk(bucket),
    writeHours,
    launch: launch(restartHours + writeHours, restartHours),
    availability,
    deadlineHours: null,
    spotUsd: 1,
    onDemandUsd: 4
  })

describe("placement cost arithmetic", () => {
  it("expects more wall-clock hours on spot than the base hours, growing with instances and risk", () => {
    const low = run(100, 1, 0, 0.02, 0.1)
    const high = run(100, 1, 4, 0.02, 0.1)
    const wide = run(100, 16, 4, 0.02, 0.1)
    assert.isAbove(low.expectedHours, 100)
    assert.isAbove(high.expectedHours, low.expectedHours)
    assert.isAbove(wide.expectedHours, high.expectedHours)
    // Young's interval √(2δM) with M the job's MTBF: 16 instances → M / 16 → τ / 4.
    assert.closeTo(wide.checkpointEveryHours, high.checkpointEveryHours / 4, 1e-9)
    // Interruptions over the hours after the first launch; certain capacity: no waits, the cost is hours × price × n.
    assert.closeTo(wide.expectedInterruptions, (wide.expectedHours - 0.1) / wide.jobMtbfHours, 1e-9)
    assert.strictEqual(wide.waitHours, 0)
    assert.closeTo(wide.costUsd, wide.spotHours * 16, 1e-9)
  })

  it("never checkpoints less often than once per job", () => {
    assert.strictEqual(run(2, 1, 0, 0.01, 0.1).checkpointEveryHours, 2)
  })

  it("waits a whole outage after every interruption and (1 − a) of one before the first launch, D = M·(1 − a)/a", () => {
    const certain = run(100, 1, 4, 0.02, 0.1, 1)
    const scarce = run(100, 1, 4, 0.02, 0.1, 0.4)
    const outage = (scarce.jobMtbfHours * 0.6) / 0.4
    assert.closeTo(scarce.waitHours, 0.6 * outage + scarce.expectedInterruptions * outage, 1e-9)
    assert.closeTo(scarce.expectedHours, certain.expectedHours + scarce.waitHours, 1e-9)
    // Waiting is not billed.
    assert.closeTo(scarce.costUsd, certain.costUsd, 1e-9)
  })

  it("bills at least EC2's 60-second minimum for a launch", () => {
    const tiny = spotRun({
      baseHours: 1 / 3600,
      instances: 2,
      risk: spotRisk(0),
      writeHours: 0,
      launch: launch(0, 0),
      availability: 1,
      deadlineHours: null,
      spotUsd: 3.6,
      onDemandUsd: null
    })
    assert.strictEqual(tiny.spotHours, MINIMUM_BILLED_HOURS)
    assert.closeTo(tiny.costUsd, (2 * 3.6) / 60, 1e-12)
    assert.strictEqual(billedHours(10 / 3600, launch(0, 0)), 1 / 60)
    assert.strictEqual(billedHours(2, launch(0.25, 0.2)), 2.2)
  })

  it("times a launch: start, the data at the region's rate, the pretrained weights; relaunches read the checkpoint", () => {
    const assumptions = { ...DEFAULT_COST_ASSUMPTIONS }
    const spec = {
      name: "lora",
      kind: "training",
      model: { parameters: "7B", finetune: "lora" },
      training: { tokens: "1B" },
      data: { region: "us-east-1", sizeGB: 90 }
    }
    // 90 GB at 0.5 GB/s = 180 s in us-east-1, at 0.1 GB/s = 900 s from another region; 7B × 2 bytes = 14 GB = 28 s.
    const here = launchTime(workload(spec), "us-east-1", 0.01, assumptions)
    assert.closeTo(here.dataHours, 180 / 3600, 1e-12)
    assert.closeTo(here.modelHours, 28 / 3600, 1e-12)
    assert.closeTo(here.firstLaunchHours, 10 / 60 + 208 / 3600, 1e-12)
    // A LoRA checkpoint holds the adapters: a relaunch loads the base again, and reads the checkpoint.
    assert.closeTo(here.relaunchHours, here.firstLaunchHours + 0.01, 1e-12)
    assert.closeTo(launchTime(workload(spec), "us-west-2", 0.01, assumptions).dataHours, 900 / 3600, 1e-12)
    // A full fine-tune's checkpoint holds its weights: no base to load on a relaunch.
    const full = launchTime(workload({ ...spec, model: { parameters: "7B" } }), "us-east-1", 0.01, assumptions)
    assert.closeTo(full.relaunchHours, 10 / 60 + 180 / 3600 + 0.01, 1e-12)
  })

  it("keeps a service's hours on spot and reports its interruptions per month", () => {
    // Two >20% replicas for a month: 2 × 730 h × −ln(0.7)/12 h = 43.4 replacements (the literal reading: 0.71).
    const service = spotServing(730, 2, spotRisk(4), 1)
    assert.strictEqual(service.expectedHours, 730)
    assert.closeTo(service.expectedInterruptions, (2 * 730 * -Math.log(0.7)) / 12, 1e-9)
    assert.closeTo(spotServing(730, 2, spotRisk(4, 730), 1).expectedInterruptions, 2 * -Math.log(0.7), 1e-9)
    // Replicas run on demand while the pool has no capacity: 30% of the month at $4 instead of $1.
    assert.closeTo(spotServing(730, 2, spotRisk(4), 1, 0.7, 4).costUsd, 2 * (0.7 * 730 * 1 + 0.3 * 730 * 4), 1e-9)
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
