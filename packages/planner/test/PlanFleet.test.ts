/** `planFleet` on the hand-priced fixture (test/fixtures.ts): stand-alone costs are those of Plan.test.ts. */
import { assert, describe, it } from "@effect/vitest"
import type { Catalog } from "@frugal/pricing"
import { planFleet, type PlanOptions, poolLimit } from "../src/index.ts"
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
      { workloads: 3, feasible: 2, infeasible: 1, jobsCostUsd: 520.95, servicesCostPerMonthUsd: 8760, ownedCommitmentSavingsUsd: 0, owned: [] }
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
    // (100 h + the 0.1 h launch) × $20 = $2,002 is $1,401.40 at SP rates, within the $4,380 left: covered too, and $0
    // beats spot's $520.95.
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
    assert.strictEqual(plan?.used, 11_621.4)
    assert.deepStrictEqual(plan?.workloads, ["svc", "job-a"])
    assert.strictEqual(result.workloads[0]?.options[0]?.purchaseOption, "savings-plan")
    assert.strictEqual(result.workloads[0]?.options[0]?.expectedCostUsd, 0)
  })

  it("does not put more gangs into one spot pool than it can hold, and prices each with what is already there", () => {
    // Every spot zone with a placement score of 5: one instance launches half the time, a gang of n with 0.5^(1 + log2 n),
    // so a pool holds 5 instances: 0.5^(1 + log2 5) = 0.1, and a sixth would fall under 10%.
    const scored: Catalog = {
      ...fixtureCatalog,
      offers: fixtureCatalog.offers.map((offer) => (offer.purchaseOption === "spot" ? { ...offer, placementScore: 5 } : offer))
    }
    assert.strictEqual(poolLimit(0.5), 5)
    const jobs = Array.from({ length: 6 }, (_, i) => training({ deadlineHours: 400 }, { name: `sweep-${i}` }))
    const result = planFleet(jobs, scored, options)
    const perPool = new Map<string, number>()
    for (const plan of result.workloads) {
      const best = plan.options[0]
      if (plan.status !== "ok" || best === undefined) throw new Error("expected every job placed")
      const pool = `${best.instanceType} ${best.purchaseOption} ${best.availabilityZone ?? best.region}`
      perPool.set(pool, (perPool.get(pool) ?? 0) + best.instanceCount)
    }
    assert.isAtLeast(perPool.size, 2)
    for (const [pool, instances] of perPool) if (pool.includes("spot")) assert.isAtMost(instances, 5, pool)
    // The first job in usw2-az1 sees a 50% chance; a later one there would see 0.5^(1 + log2 2) = 25%.
    const first = result.workloads[0]?.options[0]
    assert.strictEqual(first?.capacityRisk.obtainProbability, 0.5)
  })

  it("is deterministic", () => {
    const a = JSON.stringify(planFleet(fleet, fixtureCatalog, options))
    assert.strictEqual(JSON.stringify(planFleet(fleet, fixtureCatalog, options)), a)
  })
})
