/** `planFleet` on the hand-priced fixture (test/fixtures.ts): stand-alone costs are those of Plan.test.ts. */
import { assert, describe, it } from "@effect/vitest"
import { planFleet, type PlanOptions } from "../src/index.ts"
import { fixtureCatalog, roundAssumptions, stubEstimator, training, workload } from "./fixtures.ts"

const options: PlanOptions = { estimator: stubEstimator, assumptions: roundAssumptions }

const fleet = [
  { ...training(), name: "job-a" },
  { ...training({ deadlineHours: 0.5 }), name: "job-impossible" },
  workload({ name: "svc", kind: "inference", model: { parameters: "7B" }, inference: { tokensPerSecond: 100 } })
]

describe("planFleet", () => {
  it("plans every workload, keeps infeasible ones with their binding constraint, and sums the costs", () => {
    const result = planFleet(fleet, fixtureCatalog, options)
    assert.deepStrictEqual(result.workloads.map((w) => [w.workload, w.status]), [
      ["job-a", "ok"],
      ["job-impossible", "infeasible"],
      ["svc", "ok"]
    ])
    const impossible = result.workloads[1]
    assert.strictEqual(impossible?.status === "infeasible" ? impossible.constraint : "", "constraints.deadlineHours")
    assert.deepStrictEqual(
      { ...result.summary, owned: [] },
      { workloads: 3, feasible: 2, infeasible: 1, jobsCostUsd: 520.45, servicesCostPerMonthUsd: 8760, ownedCommitmentSavingsUsd: 0, owned: [] }
    )
    assert.isAtMost(result.workloads[0]?.options.length ?? 0, 3)
  })

  it("fills an owned reservation first: its cost is sunk, so the job pays nothing for compute", () => {
    const result = planFleet(fleet, fixtureCatalog, {
      ...options,
      owned: [{ kind: "reserved", instanceType: "p4d.24xlarge", region: "us-east-1", count: 1 }]
    })
    // The service (730 instance-hours, $8,760/month) is the biggest spender and takes the whole month of the one
    // reserved instance; the 100-hour job no longer fits in what is left and stays on spot.
    const service = result.workloads[2]
    const job = result.workloads[0]
    assert.strictEqual(service?.options[0]?.owned, true)
    assert.strictEqual(service?.options[0]?.expectedCostUsd, 0)
    assert.match(service?.options[0]?.reason ?? "", /uses the owned reservation of 1 × p4d\.24xlarge in us-east-1 \(already paid\)/)
    assert.strictEqual(job?.options[0]?.purchaseOption, "spot")
    assert.deepStrictEqual(result.summary.owned, [{
      kind: "reserved",
      instanceType: "p4d.24xlarge",
      region: "us-east-1",
      capacity: 730,
      used: 730,
      utilization: 1,
      workloads: ["svc"]
    }])
    assert.strictEqual(result.summary.ownedCommitmentSavingsUsd, 8760)
    assert.strictEqual(result.summary.servicesCostPerMonthUsd, 0)
  })

  it("covers on-demand usage with an owned savings plan up to its commitment", () => {
    // A $20/h plan over 730 h holds $14,600 of usage at savings-plan rates (30% off on-demand). The service, the
    // bigger spender, goes first: 730 h × $20 = $14,600 on demand is $10,220 at SP rates, covered in full. The job's
    // 100 h × $20 = $2,000 is $1,400 at SP rates, within the $4,380 left: covered too, and $0 beats spot's $502.42.
    const result = planFleet([fleet[0], fleet[2]].flatMap((w) => (w === undefined ? [] : [w])), fixtureCatalog, {
      ...options,
      owned: [{ kind: "savings-plan", commitmentUsdPerHour: 20, discount: 0.3 }]
    })
    const service = result.workloads[1]
    assert.strictEqual(service?.options[0]?.owned, true)
    assert.strictEqual(service?.options[0]?.purchaseOption, "savings-plan")
    assert.strictEqual(service?.options[0]?.expectedCostUsd, 0)
    assert.strictEqual(service?.options[0]?.hourlyPriceUsd, 14) // $20 × (1 − 0.3)
    const plan = result.summary.owned[0]
    assert.strictEqual(plan?.capacity, 14_600)
    assert.strictEqual(plan?.used, 11_620)
    assert.deepStrictEqual(plan?.workloads, ["svc", "job-a"])
    assert.strictEqual(result.workloads[0]?.options[0]?.purchaseOption, "savings-plan")
    assert.strictEqual(result.workloads[0]?.options[0]?.expectedCostUsd, 0)
  })

  it("is deterministic", () => {
    const a = JSON.stringify(planFleet(fleet, fixtureCatalog, options))
    assert.strictEqual(JSON.stringify(planFleet(fleet, fixtureCatalog, options)), a)
  })
})
