import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { frugalPolicy, greedyPolicy, onDemandPolicy } from "@frugal/planner"
import { type AttemptRecord, type Placement, policyPlacement, type PolicyPlacementOptions } from "../src/index.ts"

const spot = (zone: string, price: number): Placement => ({
  instanceType: "g5.xlarge",
  region: "us-east-1",
  availabilityZone: zone,
  purchaseOption: "spot",
  hourlyPriceUsd: price,
  instanceCount: 1,
  accelerator: "A10G",
  acceleratorsPerInstance: 1,
  interruptionsPerHour: 0.1
})
const onDemand: Placement = { ...spot("use1-az1", 1.006), availabilityZone: null, purchaseOption: "on-demand", interruptionsPerHour: 0 }
const zones = [spot("use1-az1", 0.3), spot("use1-az2", 0.35)]

const interruptedOn = (placement: Placement): AttemptRecord => ({
  id: "j-1",
  jobId: "j",
  sequence: 1,
  runner: "ec2",
  placement,
  checkpointEverySeconds: 600,
  externalId: "i-1",
  pid: null,
  logPath: null,
  startedAtMillis: 0,
  lastSeenAtMillis: 3_600_000,
  endedAtMillis: 3_600_000,
  exitReason: "interrupted",
  exitCode: 75,
  exitDetail: "interrupted (resumable)",
  resumedFromStep: null,
  lastStep: 100,
  lastCheckpointStep: 100,
  costUsd: 0.3
})

const options = (deadlineHours: number): PolicyPlacementOptions => ({
  spotZones: zones,
  onDemand,
  computeHours: 10,
  deadlineHours,
  changeoverHours: 0.1,
  totalSteps: 1000
})

const decide = (policy: typeof greedyPolicy, deadlineHours: number) =>
  policyPlacement(policy, options(deadlineHours))({
    jobId: "j",
    current: zones[0] ?? onDemand,
    lastExit: { _tag: "Interrupted", resumable: true },
    attempts: [interruptedOn(zones[0] ?? onDemand)],
    lastCheckpointStep: 100,
    nowMillis: 3_600_000
  })

describe("policyPlacement", () => {
  it.effect("greedy moves to the other zone's spot when the zone it held was pre-empted", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* decide(greedyPolicy, 48), zones[1])
    }))

  it.effect("greedy falls back to on-demand when the deadline leaves no slack for spot", () =>
    Effect.gen(function*() {
      // 9 compute hours left, 10 hours to go: the safety net forbids waiting or risking spot.
      assert.deepStrictEqual(yield* decide(greedyPolicy, 10.05), onDemand)
    }))

  it.effect("the on-demand policy always answers on-demand", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* decide(onDemandPolicy, 48), onDemand)
    }))

  it.effect("frugal takes the other zone's spot after a reclaim when the deadline has slack", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* decide(frugalPolicy, 48), zones[1])
    }))

  it.effect("frugal relaunches on-demand when no zone has spot and waiting would risk the deadline", () =>
    Effect.gen(function*() {
      const single: PolicyPlacementOptions = { ...options(12), spotZones: [zones[0] ?? onDemand] }
      const next = yield* policyPlacement(frugalPolicy, single)({
        jobId: "j",
        current: zones[0] ?? onDemand,
        lastExit: { _tag: "Interrupted", resumable: true },
        attempts: [interruptedOn(zones[0] ?? onDemand)],
        lastCheckpointStep: 20,
        nowMillis: 3_600_000
      })
      // 9.8 compute hours left, 11 to the deadline: a 15-minute wait plus a 0.1 h changeover would still fit,
      // but the slack (1.1 h) is more than 2d under Frugal's pace line (0.85 × 1.9 × 11/12 = 1.48 h), so
      // on-demand starts at once instead of waiting for the zone to come back.
      assert.deepStrictEqual(next, onDemand)
    }))

  it.effect("frugal waits out a reclaim when the deadline has room, then takes spot again, saying so before the wait", () =>
    Effect.gen(function*() {
      const waits: Array<number> = []
      const single: PolicyPlacementOptions = {
        ...options(48),
        spotZones: [zones[0] ?? onDemand],
        onWait: (hours) => Effect.sync(() => void waits.push(hours))
      }
      const fiber = yield* Effect.forkChild(policyPlacement(frugalPolicy, single)({
        jobId: "j",
        current: zones[0] ?? onDemand,
        lastExit: { _tag: "Interrupted", resumable: true },
        attempts: [interruptedOn(zones[0] ?? onDemand)],
        lastCheckpointStep: 100,
        nowMillis: 3_600_000
      }))
      yield* TestClock.adjust("15 minutes")
      assert.deepStrictEqual(yield* Fiber.join(fiber), zones[0])
      assert.deepStrictEqual(waits, [0.25])
    }))
})
