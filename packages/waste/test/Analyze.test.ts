import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { analyzeWaste } from "../src/Analyze.ts"
import type { ComputeSpend, CostData, GpuSample, GpuSeries } from "../src/CostData.ts"
import { datesOf } from "../src/CostData.ts"
import type { FindingKind, WasteReport } from "../src/Finding.ts"
import { testCatalog } from "./fixtures/TestCatalog.ts"

const period = { start: "2026-11-02", end: "2026-11-09" } // 7 days, 168 hours
const dates = datesOf(period)

const daily = (instanceType: string, purchaseOption: ComputeSpend["purchaseOption"], hours: number, rate: number, on = dates) =>
  on.map((date): ComputeSpend => ({ date, instanceType, purchaseOption, costUsd: hours * rate, usageHours: hours }))

const costs: CostData = {
  period,
  compute: [
    ...daily("g5.12xlarge", "on-demand", 48, 5), // two instances around the clock at a negotiated $5/h: $1,680
    ...daily("p4d.24xlarge", "on-demand", 24, 22, dates.slice(0, 2)), // $1,056
    ...daily("p4d.24xlarge", "spot", 24, 6.6, dates.slice(2, 3)), // $158.40
    ...daily("g6e.xlarge", "on-demand", 24, 1.86), // $312.48
    ...daily("g4dn.12xlarge", "reserved", 24, 2) // $336
  ],
  zones: [{ date: "2026-11-02", availabilityZone: "us-east-1b", instanceType: "g5.12xlarge", costUsd: 240, usageHours: 48 }],
  usageTypes: [
    { date: "2026-11-02", usageType: "USE1-USW2-AWS-Out-Bytes", costUsd: 20, usageQuantity: 1000 },
    { date: "2026-11-02", usageType: "USE1-BoxUsage:g5.12xlarge", costUsd: 240, usageQuantity: 48 }
  ],
  reservations: [{ id: "ri-0123", instanceType: "g4dn.12xlarge", purchasedHours: 168, unusedHours: 42, amortizedFeeUsd: 336 }],
  savingsPlans: [],
  adjustments: []
}

const hourly = (utilization: (hour: number) => number, memoryMiB: number): ReadonlyArray<GpuSample> =>
  Array.from({ length: 168 }, (_, hour) => ({
    time: new Date(Date.parse("2026-11-02T00:00:00Z") + hour * 3_600_000).toISOString(),
    utilizationPct: utilization(hour),
    memoryUsedMiB: memoryMiB
  }))

// GPUs 0 and 1 of i-aaa idle 6 h on 2026-11-03 00:00–05:00 (hours 24..29); GPU 2 idle one hour (hour 84).
const gpus: ReadonlyArray<GpuSeries> = [
  ...[0, 1, 2, 3].map((gpuIndex): GpuSeries => ({
    instanceId: "i-aaa",
    instanceType: "g5.12xlarge",
    gpuIndex,
    samples: hourly((hour) => (gpuIndex < 2 && hour >= 24 && hour < 30) || (gpuIndex === 2 && hour === 84) ? 5 : 80, 20000)
  })),
  { instanceId: "i-bbb", instanceType: "g6e.xlarge", gpuIndex: 0, samples: hourly(() => 40, 10240) }
]

const lostWork = [{
  jobId: "llama-ft",
  attempt: 1,
  instanceType: "p4d.24xlarge",
  purchaseOption: "spot" as const,
  interruptedAt: "2026-11-04T13:00:00Z",
  lostHours: 2.5,
  lostCostUsd: 16.5
}]

const report = analyzeWaste({ costs, gpus, lostWork, catalog: testCatalog })
const dollars = (result: WasteReport, kind: FindingKind): number =>
  result.findings.find((finding) => finding.kind === kind)?.costUsd ?? 0

describe("analyzeWaste", () => {
  it("counts instance spend plus inter-region transfer, not the instance usage types listed again", () => {
    assert.closeTo(report.totalCostUsd, 1680 + 1056 + 158.4 + 312.48 + 336 + 20, 1e-9)
  })

  it("charges idle GPU-hours at the instance's effective rate per GPU", () => {
    // 13 idle GPU-hours × ($1,680 / 336 h / 4 GPUs = $1.25)
    assert.closeTo(dollars(report, "idle-gpu"), 13 * 1.25, 1e-9)
    const evidence = report.findings.find((finding) => finding.kind === "idle-gpu")?.evidence ?? []
    assert.deepStrictEqual(evidence.map((item) => [item.subject, item.hours, item.from, item.to]), [
      ["i-aaa", 13, "2026-11-03T00:00:00.000Z", "2026-11-05T12:00:00.000Z"]
    ])
  })

  it("prices an oversized L40S against the cheapest GPU that holds its peak memory with headroom", () => {
    // 10 GiB peak × 1.25 = 12.5 GiB fits a T4 (16 GiB): 168 h × ($1.86 − $0.526)
    assert.closeTo(dollars(report, "oversized-gpu"), 168 * (1.86 - 0.526), 1e-9)
    assert.match(report.findings.find((finding) => finding.kind === "oversized-gpu")?.action ?? "", /g4dn\.xlarge/)
  })

  it("charges unused reserved hours at the reservation's amortised fee", () => {
    assert.closeTo(dollars(report, "unused-commitment"), 336 * 42 / 168, 1e-9)
  })

  it("sizes the commitment to the always-on baseline left after idle hours, with break-even and payback", () => {
    // baseline 2 instances = 336 h, minus 13/4 idle instance-hours already claimed; $5/h paid × (1 − 3.573 / 5.672)
    assert.closeTo(dollars(report, "commitment-opportunity"), (336 - 3.25) * 5 * (1 - 3.573 / 5.672), 1e-9)
    const detail = report.findings.find((finding) => finding.kind === "commitment-opportunity")?.evidence[0]?.detail ?? ""
    assert.match(detail, /break-even utilisation 63%/)
    assert.match(detail, /no upfront payment/)
  })

  it("suggests spot for on-demand hours not already committed, in zones at or below the risk threshold", () => {
    // p4d: 48 on-demand hours × $22 × (1 − 6.6 / 22); g5's hours all went to the commitment; use1-az1 (bucket 3) ignored
    assert.closeTo(dollars(report, "spot-eligible"), 48 * (22 - 6.6), 1e-9)
    const detail = report.findings.find((finding) => finding.kind === "spot-eligible")?.evidence[0]?.detail ?? ""
    assert.match(detail, /use1-az2 \$6\.60\/h \(interruptions <5%\)/)
  })

  it("charges work lost since the last checkpoint and inter-region transfer", () => {
    assert.closeTo(dollars(report, "lost-work"), 16.5, 1e-9)
    assert.closeTo(dollars(report, "cross-region-transfer"), 20, 1e-9)
  })

  it("projects each finding to a 730-hour month", () => {
    for (const finding of report.findings) assert.closeTo(finding.monthlySavingsUsd, finding.costUsd * 730 / 168, 1e-9)
  })

  it("never finds more waste than was spent, whatever the data", () => {
    const option = fc.constantFrom("on-demand" as const, "spot" as const, "reserved" as const, "savings-plan" as const)
    const type = fc.constantFrom("g5.12xlarge", "p4d.24xlarge", "g6e.xlarge", "g4dn.12xlarge")
    fc.assert(fc.property(
      fc.array(fc.record({ date: fc.constantFrom(...dates), instanceType: type, purchaseOption: option,
        usageHours: fc.integer({ min: 0, max: 200 }), rate: fc.double({ min: 0.1, max: 40, noNaN: true }) }), { maxLength: 30 }),
      fc.array(fc.record({ instanceType: type, gpu: fc.integer({ min: 0, max: 7 }), utilization: fc.integer({ min: 0, max: 100 }),
        memoryMiB: fc.integer({ min: 0, max: 40000 }) }), { maxLength: 6 }),
      fc.double({ min: 0, max: 10_000, noNaN: true }),
      (rows, series, unusedFee) => {
        const data: CostData = {
          ...costs,
          compute: rows.map((row) => ({ ...row, costUsd: row.usageHours * row.rate })),
          reservations: [{ id: "ri", instanceType: null, purchasedHours: 168, unusedHours: 100, amortizedFeeUsd: unusedFee }],
          savingsPlans: [{ start: period.start, end: period.end, totalCommitmentUsd: unusedFee, unusedCommitmentUsd: unusedFee / 2 }]
        }
        const gpuData = series.map((one, index): GpuSeries => ({
          instanceId: `i-${index}`, instanceType: one.instanceType, gpuIndex: one.gpu,
          samples: hourly((hour) => (hour % 5 === 0 ? one.utilization / 4 : one.utilization), one.memoryMiB)
        }))
        const result = analyzeWaste({ costs: data, gpus: gpuData, lostWork, catalog: testCatalog })
        return result.wasteUsd <= result.totalCostUsd + 1e-6 && result.findings.every((finding) => finding.costUsd > 0)
      }
    ), { numRuns: 200 })
  })
})
