import type { Placement, RankedPlacement } from "@frugal/runner"
import { describe, expect, it } from "vitest"
import { commitmentUse, fillCommitmentsFirst } from "../src/Commitments.ts"
import { fitDeadline } from "../src/DeadlineFit.ts"
import { costWithinUsd, monthStartMillis, spentThisMonthUsd } from "../src/Spend.ts"

const placement = (fields: Partial<Placement>): Placement => ({
  runner: "ec2",
  pool: null,
  instanceType: "p4d.24xlarge",
  region: "us-east-1",
  availabilityZone: "use1-az4",
  purchaseOption: "spot",
  hourlyPriceUsd: 10,
  instanceCount: 1,
  accelerator: "A100-40GB",
  acceleratorsPerInstance: 8,
  interruptionsPerHour: 0.05,
  ...fields
})

const ranked = (fields: Partial<Placement>, expectedHours: number): RankedPlacement => {
  const p = placement(fields)
  return { placement: p, baseHours: expectedHours * 0.9, expectedHours, expectedCostUsd: expectedHours * p.hourlyPriceUsd * p.instanceCount }
}

const spot = ranked({ purchaseOption: "spot", hourlyPriceUsd: 10 }, 30)
const onDemand = ranked({ purchaseOption: "on-demand", hourlyPriceUsd: 32.77, availabilityZone: null, interruptionsPerHour: 0 }, 24)

describe("deadline at admission", () => {
  it("keeps every placement that still fits the hours left, and counts the deadline from now", () => {
    const fit = fitDeadline([spot, onDemand], 40, 2)
    expect(fit).toEqual({ _tag: "Fits", placements: [spot, onDemand], deadlineHours: 38, onDemandOnly: false })
  })

  it("gives a job on-demand when only on-demand still meets its deadline", () => {
    // 36 h deadline, 8 h in the queue: 28 h left; spot needs 30, on-demand 24.
    const fit = fitDeadline([spot, onDemand], 36, 8)
    expect(fit).toEqual({ _tag: "Fits", placements: [onDemand], deadlineHours: 28, onDemandOnly: true })
  })

  it("refuses a job that no placement can finish in time, naming constraints.deadlineHours", () => {
    const fit = fitDeadline([spot, onDemand], 36, 14)
    expect(fit._tag).toBe("Misses")
    expect(fit._tag === "Misses" ? fit.detail : "").toBe(
      "constraints.deadlineHours: 36 h from submission, 22.00 h left after 14.00 h in the queue; the fastest placement is expected to take 24.00 h"
    )
  })

  it("changes nothing for a job without a deadline", () => {
    expect(fitDeadline([spot], null, 500)).toEqual({ _tag: "Fits", placements: [spot], deadlineHours: null, onDemandOnly: false })
  })
})

describe("owned commitments first", () => {
  const reservation = { kind: "reserved" as const, instanceType: "p4d.24xlarge", region: "us-east-1", count: 2, hourlyPriceUsd: 19.2 }

  it("puts a free reservation of the same type and region ahead of the plan's placements, at its effective rate", () => {
    const filled = fillCommitmentsFirst([spot, onDemand], [reservation], commitmentUse([]))
    expect(filled.map((r) => r.placement.purchaseOption)).toEqual(["reserved", "spot", "on-demand"])
    expect(filled[0]?.placement.hourlyPriceUsd).toBe(19.2)
    expect(filled[0]?.expectedCostUsd).toBeCloseTo(24 * 19.2, 9)
    expect(filled[0]?.placement.interruptionsPerHour).toBe(0)
  })

  it("skips a reservation the running jobs already fill", () => {
    const inUse = commitmentUse([placement({ purchaseOption: "reserved", instanceCount: 2 })])
    expect(inUse.reservedInstances.get("p4d.24xlarge|us-east-1")).toBe(2)
    expect(fillCommitmentsFirst([spot, onDemand], [reservation], inUse).map((r) => r.placement.purchaseOption)).toEqual(["spot", "on-demand"])
  })

  it("bills on-demand at the savings-plan rate while the hourly commitment has room", () => {
    const plan = { kind: "savings-plan" as const, commitmentUsdPerHour: 30, discount: 0.28 }
    const filled = fillCommitmentsFirst([spot, onDemand], [plan], commitmentUse([]))
    expect(filled[0]?.placement.purchaseOption).toBe("savings-plan")
    expect(filled[0]?.placement.hourlyPriceUsd).toBeCloseTo(32.77 * 0.72, 9)
    // 23.59 $/h of the 30 already used by a running job: no room for another.
    const used = commitmentUse([placement({ purchaseOption: "savings-plan", hourlyPriceUsd: 23.59 })])
    expect(fillCommitmentsFirst([spot, onDemand], [plan], used).map((r) => r.placement.purchaseOption)).toEqual(["spot", "on-demand"])
  })
})

describe("month spend", () => {
  const march15 = Date.UTC(2026, 2, 15, 12)
  it("starts the month at midnight UTC on the first", () => {
    expect(new Date(monthStartMillis(march15)).toISOString()).toBe("2026-03-01T00:00:00.000Z")
  })

  it("counts the share of an attempt's cost inside the month, and a running attempt up to its last sighting", () => {
    const start = monthStartMillis(march15)
    const straddling = { startedAtMillis: start - 3_600_000, endedAtMillis: start + 3_600_000, lastSeenAtMillis: start + 3_600_000, costUsd: 10 }
    expect(costWithinUsd(straddling, start, march15)).toBeCloseTo(5, 9)
    const runningNow = { startedAtMillis: march15 - 7_200_000, endedAtMillis: null, lastSeenAtMillis: march15 - 3_600_000, costUsd: 4 }
    const lastMonth = { startedAtMillis: start - 7_200_000, endedAtMillis: start - 3_600_000, lastSeenAtMillis: start - 3_600_000, costUsd: 99 }
    expect(spentThisMonthUsd([straddling, runningNow, lastMonth], march15)).toBeCloseTo(9, 9)
  })
})
