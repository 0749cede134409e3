/**
 * The human form of a plan: a commitment shows its term and what it costs up front, a service's costs read "per
 * month" and a job's "in total", and every option shows the chance its pool launches it.
 */
import { describe, expect, it } from "@effect/vitest"
import type { PlacementOption, Plan } from "@frugal/planner"
import { planText, recommendationLines } from "../src/PlanText.ts"

const option = (overrides: Partial<PlacementOption>): PlacementOption => ({
  instanceType: "p5.48xlarge",
  gpu: "H100",
  gpusPerInstance: 8,
  instanceCount: 24,
  region: "us-east-1",
  availabilityZone: null,
  purchaseOption: "on-demand",
  term: null,
  hourlyPriceUsd: 55.04,
  baseHours: 600,
  expectedHours: 600.2,
  expectedCostUsd: 792_840,
  transferCostUsd: 0,
  meetsDeadline: true,
  withinBudget: true,
  interruptionRisk: null,
  checkpointEveryMinutes: null,
  onDemandCostUsd: 792_840,
  savingVsOnDemandUsd: null,
  priceIsEstimate: false,
  utilization: null,
  breakEvenUtilization: null,
  owned: false,
  capacityRisk: {
    obtainProbability: 0.66,
    basis: "prior",
    label: "uncertain (66%)",
    expectedWaitHours: 0.34,
    onDemandFallbackHours: null,
    onDemandFallbackHourlyUsd: null
  },
  launchHours: 0.2,
  reason: "test reason",
  ...overrides
})

const plan = (costPeriod: "job" | "month", options: ReadonlyArray<PlacementOption>): Plan => ({
  workload: "test",
  kind: costPeriod === "month" ? "inference" : "training",
  status: "ok",
  costPeriod,
  requirements: { accelerator: "H100", memoryGiB: 1000, perGpuMemoryGiB: 60, minGpus: 16, sharding: "fsdp", byAccelerator: {} },
  constraints: { deadlineHours: 720, budgetUsd: null, regions: null, interruptible: true, purchaseOptions: ["spot", "on-demand", "reserved"] },
  options,
  placementsPriced: 42,
  catalog: { source: "embedded", asOf: "2026-07-09", description: "test catalog", notes: [] },
  notes: []
})

// 3-yr all upfront for 24 instances at an effective $12.45/h each: 12.45 × 26,280 h × 24 = $7,852,644 up front.
const allUpfront = option({
  purchaseOption: "reserved",
  term: { years: 3, paymentOption: "all-upfront", offeringClass: "standard", upfrontUsd: 7_852_644 },
  hourlyPriceUsd: 12.45,
  expectedCostUsd: 218_124,
  priceIsEstimate: true
})
// 1-yr partial upfront for 2 instances at an effective $30/h: half of 30 × 8,760 × 2 = $262,800 up front, $15/h after.
const partial = option({
  instanceCount: 2,
  purchaseOption: "reserved",
  term: { years: 1, paymentOption: "partial-upfront", offeringClass: "standard", upfrontUsd: 262_800 },
  hourlyPriceUsd: 30,
  expectedCostUsd: 43_800
})

describe("plan text", () => {
  it("shows a commitment's term and its upfront payment, and that a service's cost is per month", () => {
    const lines = recommendationLines(plan("month", [allUpfront])).join("\n")
    expect(lines).toContain("Expected cost $218,124 per month over")
    expect(lines).toContain("Term: 3-yr standard reserved instance, all upfront: $7,852,644 paid up front for 24 instances, nothing more per hour")
    expect(lines).toContain("the cost per month above is the term's cost spread over its months")
  })

  it("shows the recurring rate after a partial upfront payment, and that a job's cost is a total", () => {
    const lines = recommendationLines(plan("job", [partial])).join("\n")
    expect(lines).toContain("Expected cost $43,800 in total over")
    expect(lines).toContain("$262,800 paid up front for 2 instances, then $15.00/h each for every hour of the term")
    expect(lines).toContain("the total above charges every hour of the term, used or not")
  })

  it("has an upfront and a capacity column, labelled per month or total by the plan's period", () => {
    const spot = option({
      purchaseOption: "spot",
      availabilityZone: "use2-az3",
      hourlyPriceUsd: 11.39,
      capacityRisk: { obtainProbability: 0.2, basis: "suspicious-price", label: "suspicious price, 20% assumed", expectedWaitHours: 3, onDemandFallbackHours: 40, onDemandFallbackHourlyUsd: 113.93 }
    })
    const text = planText(plan("job", [option({}), allUpfront, spot]), 3)
    const header = text.find((line) => line.startsWith("#"))
    expect(header).toMatch(/TOTAL COST +UPFRONT +DEADLINE +CAPACITY/)
    expect(text.find((line) => line.startsWith("1 "))).toMatch(/ — +met +66% prior /)
    expect(text.find((line) => line.startsWith("2 "))).toMatch(/\$7,852,644 +met +66% prior/)
    expect(text.find((line) => line.startsWith("3 "))).toMatch(/ — +met +20% floor\? /)
    expect(text.join("\n")).toContain("UPFRONT is paid at purchase for all the instances of the row")
    expect(planText(plan("month", [allUpfront]), 1).find((line) => line.startsWith("#"))).toMatch(/COST PER MONTH/)
  })

  it("says how likely spot capacity is, what waiting and the on-demand fallback add, and how long a launch takes", () => {
    const spot = option({
      purchaseOption: "spot",
      availabilityZone: "usw2-az4",
      hourlyPriceUsd: 9.37,
      capacityRisk: { obtainProbability: 0.12, basis: "prior", label: "unlikely (12%)", expectedWaitHours: 2, onDemandFallbackHours: 500, onDemandFallbackHourlyUsd: 55.04 }
    })
    const lines = recommendationLines(plan("job", [spot])).join("\n")
    expect(lines).toContain(
      "Capacity: 12% chance the pool launches it (prior by size, bucket and count), ~2.0 h waiting for capacity, 500 h on on-demand at $55.04/h to keep the deadline. Each launch takes 0.2 h"
    )
  })
})
