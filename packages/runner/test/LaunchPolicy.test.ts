import { assert, describe, it } from "@effect/vitest"
import { attemptHorizon, type AttemptExit, type AttemptRecord, chooseNext, coolDowns, type JobPolicy, type Placement, poolKey, type RankedPlacement } from "../src/index.ts"

const HOUR = 3_600_000

const place = (zone: string, purchaseOption: "spot" | "on-demand", price: number, region = "us-east-1"): Placement => ({
  runner: "ec2",
  pool: null,
  instanceType: "g5.xlarge",
  region,
  availabilityZone: zone,
  purchaseOption,
  hourlyPriceUsd: price,
  instanceCount: 1,
  accelerator: "A10G",
  acceleratorsPerInstance: 1,
  interruptionsPerHour: purchaseOption === "spot" ? 0.05 : 0
})

const ranked = (placement: Placement): RankedPlacement => ({
  placement,
  baseHours: 10,
  expectedHours: placement.purchaseOption === "spot" ? 12 : 10,
  expectedCostUsd: placement.hourlyPriceUsd * 10
})

const spotA = place("use1-az4", "spot", 0.3)
const spotB = place("use1-az6", "spot", 0.35)
const spotOther = place("use2-az1", "spot", 0.32, "us-east-2")
const demandA = place("use1-az4", "on-demand", 1.0)
const demandB = place("use1-az6", "on-demand", 1.0)

const policy = (deadlineHours: number | null, name: JobPolicy["policy"] = "frugal"): JobPolicy => ({
  policy: name,
  placements: [ranked(spotA), ranked(spotB), ranked(spotOther), ranked(demandA), ranked(demandB)],
  deadlineHours,
  changeoverHours: 0.2,
  totalSteps: 1000,
  coolDownMinutes: 60,
  waitHours: 0.25,
  checkpointRegion: "us-east-1",
  checkpointGB: 1,
  catalog: "embedded 2026-07-09"
})

let counter = 0
const attempt = (
  placement: Placement,
  exitReason: AttemptRecord["exitReason"],
  startedHours: number,
  endedHours: number,
  extra: Partial<AttemptRecord> = {}
): AttemptRecord => ({
  id: `j-${++counter}`,
  jobId: "j",
  sequence: counter,
  runner: "ec2",
  placement,
  checkpointEverySeconds: 600,
  externalId: "i-1",
  pid: null,
  logPath: null,
  startedAtMillis: startedHours * HOUR,
  lastSeenAtMillis: endedHours * HOUR,
  endedAtMillis: endedHours * HOUR,
  exitReason,
  outcome: exitReason === "crashed" ? "failed" : exitReason === "lost" ? "interrupted" : exitReason ?? "running",
  reason: null,
  coolDownScope: exitReason === "provision-failed" ? "pool" : null,
  exitCode: null,
  exitDetail: null,
  resumedFromStep: null,
  lastStep: 100,
  lastCheckpointStep: 100,
  transferCostUsd: 0,
  costUsd: 0,
  ...extra
})

const capacity: AttemptExit = { _tag: "ProvisionFailed", code: "InsufficientInstanceCapacity", detail: "", scope: "pool" }
const reclaim: AttemptExit = { _tag: "Interrupted", resumable: true, reason: "Server.SpotInstanceTermination" }

describe("where the next attempt runs", () => {
  it("fails over to the next placement in the plan's order after a capacity error, skipping the pool for its cool-down", () => {
    const attempts = [attempt(spotA, "provision-failed", 0, 0)]
    const choice = chooseNext(policy(48), { attempts, lastExit: capacity, current: spotA, lastCheckpointStep: null, nowMillis: 60_000 })
    assert.strictEqual(choice._tag, "Launch")
    assert.deepStrictEqual(choice._tag === "Launch" ? choice.placement : null, spotB)
    // An hour later the pool is open again.
    const cool = coolDowns(policy(48), attempts, 59 * 60_000)
    assert.isTrue(cool.pools.has(poolKey(spotA)))
    assert.isFalse(coolDowns(policy(48), attempts, 61 * 60_000).pools.has(poolKey(spotA)))
  })

  it("sets aside every pool of the market in the region after a regional quota error", () => {
    const attempts = [attempt(spotA, "provision-failed", 0, 0, { coolDownScope: "region", reason: "MaxSpotInstanceCountExceeded" })]
    const exit: AttemptExit = { _tag: "ProvisionFailed", code: "MaxSpotInstanceCountExceeded", detail: "", scope: "region" }
    const choice = chooseNext(policy(48), { attempts, lastExit: exit, current: spotA, lastCheckpointStep: null, nowMillis: 60_000 })
    // Not spot in use1-az6 (same region and market): spot in us-east-2.
    assert.deepStrictEqual(choice._tag === "Launch" ? choice.placement : null, spotOther)
  })

  it("lets the policy choose after a reclaim, never the zone just reclaimed during its cool-down", () => {
    const attempts = [attempt(spotA, "interrupted", 0, 2)]
    const choice = chooseNext(policy(48), { attempts, lastExit: reclaim, current: spotA, lastCheckpointStep: 100, nowMillis: 2 * HOUR })
    assert.strictEqual(choice._tag, "Launch")
    const placement = choice._tag === "Launch" ? choice.placement : null
    assert.notDeepEqual(placement, spotA)
    assert.strictEqual(placement?.purchaseOption, "spot")
    assert.include(choice._tag === "Launch" ? choice.why : "", "policy frugal")
  })

  it("takes on-demand when the deadline leaves no room for another reclaim", () => {
    // 2 h gone, 90% of 10 compute hours left, deadline 12 h: only an uninterrupted run makes it.
    const attempts = [attempt(spotA, "interrupted", 0, 2)]
    const choice = chooseNext(policy(12), { attempts, lastExit: reclaim, current: spotA, lastCheckpointStep: 100, nowMillis: 2 * HOUR })
    assert.deepStrictEqual(choice._tag === "Launch" ? choice.placement.purchaseOption : choice._tag, "on-demand")
  })

  it("the on-demand policy always relaunches on-demand", () => {
    const attempts = [attempt(spotA, "interrupted", 0, 1)]
    const choice = chooseNext(policy(48, "on-demand"), { attempts, lastExit: reclaim, current: spotA, lastCheckpointStep: 100, nowMillis: HOUR })
    assert.deepStrictEqual(choice._tag === "Launch" ? choice.placement : null, demandA)
  })

  it("relaunches a crashed attempt where it ran", () => {
    const attempts = [attempt(spotB, "crashed", 0, 1)]
    const exit: AttemptExit = { _tag: "Crashed", code: 1, signal: null }
    const choice = chooseNext(policy(48), { attempts, lastExit: exit, current: spotB, lastCheckpointStep: 100, nowMillis: HOUR })
    assert.deepStrictEqual(choice._tag === "Launch" ? choice.placement : null, spotB)
  })

  it("waits for the first cool-down to end when everything is set aside and the deadline still has room", () => {
    const all = policy(48).placements.map((r) => attempt(r.placement, "provision-failed", 0, 0))
    const choice = chooseNext(policy(48), { attempts: all, lastExit: capacity, current: demandB, lastCheckpointStep: null, nowMillis: 10 * 60_000 })
    assert.strictEqual(choice._tag, "Wait")
    assert.closeTo(choice._tag === "Wait" ? choice.hours : 0, 50 / 60, 1e-9)
  })

  it("stops naming the deadline when no placement can finish the work left in time", () => {
    const attempts = [attempt(spotA, "interrupted", 0, 5)]
    const choice = chooseNext(policy(12), { attempts, lastExit: reclaim, current: spotA, lastCheckpointStep: 100, nowMillis: 5 * HOUR })
    assert.strictEqual(choice._tag, "Stop")
    assert.include(choice._tag === "Stop" ? choice.reason : "", "constraints.deadlineHours")
  })

  it("gives each attempt the hours of the work left at its own placement and the hours left to the deadline", () => {
    const slow = place("use1-az6", "on-demand", 0.5)
    const withSlow: JobPolicy = { ...policy(48), placements: [ranked(spotA), { ...ranked(slow), baseHours: 30 }] }
    // The first attempt: the whole job there, the whole deadline.
    assert.deepStrictEqual(attemptHorizon(withSlow, spotA, [], null, 0), { workHours: 10, deadlineHours: 48 })
    // A failover 6 h in, to a placement three times slower, with 400 of 1000 steps checkpointed: 60% of its 30 h.
    const failedOver = attemptHorizon(withSlow, slow, [attempt(spotA, "interrupted", 0, 6)], 400, 6 * HOUR)
    assert.closeTo(failedOver?.workHours ?? 0, 18, 1e-9)
    assert.closeTo(failedOver?.deadlineHours ?? 0, 42, 1e-9)
    // No deadline, none to cap by; past the deadline, none left.
    assert.strictEqual(attemptHorizon(policy(null), spotA, [], null, 0)?.deadlineHours, null)
    assert.strictEqual(attemptHorizon(withSlow, spotA, [attempt(spotA, "interrupted", 0, 50)], 100, 50 * HOUR)?.deadlineHours, 0)
    // A placement outside the failover order, and a service that runs until stopped, have none.
    assert.isNull(attemptHorizon(withSlow, spotOther, [], null, 0))
    assert.isNull(attemptHorizon({ ...withSlow, service: true }, spotA, [], null, 0))
  })
})
