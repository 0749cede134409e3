/**
 * `plan` on a hand-written catalog with a stub estimator (test/fixtures.ts), so every dollar below is computed by
 * hand. Spot arithmetic (Young 1974, first order), for one p4d.24xlarge, 100 base hours, δ = 84 s = 0.02333 h, a
 * first launch of 0.1 h, relaunches of 0.1 h + reading the checkpoint back (δ), each bucket's upper edge read over the
 * default 12 h exposure, capacity certain (placement score 10):
 *   bucket 2 (16%): M = 12 / −ln(0.84) = 68.826 h, τ = √(2δM) = 1.7922 h,
 *     overhead = δ/τ + (τ/2 + 0.1 + δ)/M = 0.027831 → 102.78 h + 0.1 h launch; use1-az1 at $6: $617.30
 *   bucket 4 (30%): M = 12 / −ln(0.70) = 33.644 h, τ = 1.2530 h, overhead = 0.040909 → 104.09 h + 0.1 h = 104.19 h,
 *     3.09 interruptions; usw2-az1 at $5: $520.95; on-demand in us-west-2: (100 + 0.1) h × $22 = $2,202.20.
 * With the literal monthly reading (`spotExposureHours: 730`): bucket 2 M = 4186.90 h → 100.34 h + 0.1 h, $602.62;
 *   bucket 4 M = 2046.68 h, τ = 9.773 h → 100.48 h + 0.1 h, $502.92.
 * On-demand waits for capacity: a full p4d node launches with probability 0.95 (the prior), so 0.05 × 1 h.
 */
import { assert, describe, it } from "@effect/vitest"
import { NoFeasiblePlacement } from "@frugal/core"
import { Effect, Exit } from "effect"
import { type Catalog, spotRisk } from "@frugal/pricing"
import { evaluatePlan, indexCatalog, type Plan, plan, type PlanOptions, significant } from "../src/index.ts"
import { fixtureCatalog, roundAssumptions, stubEstimator, training, workload } from "./fixtures.ts"

const options: PlanOptions = { estimator: stubEstimator, assumptions: roundAssumptions }

const onDemandOffer = fixtureCatalog.offers[0] ?? (() => {
  throw new Error("the fixture catalog starts with p4d.24xlarge on demand")
})()

const planOf = (w: Parameters<typeof plan>[0], extra: PlanOptions = {}): Plan => {
  const result = evaluatePlan(w, indexCatalog(fixtureCatalog), { ...options, ...extra })
  if (result.status !== "ok") throw new Error(`expected a plan, got ${result.constraint}: ${result.detail}`)
  return result
}

const failure = (w: Parameters<typeof plan>[0]): NoFeasiblePlacement => {
  const exit = Effect.runSyncExit(plan(w, fixtureCatalog, options))
  if (Exit.isSuccess(exit)) throw new Error("expected NoFeasiblePlacement")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail" || !(error.error instanceof NoFeasiblePlacement)) throw new Error("expected a failure")
  return error.error
}

describe("plan on a hand-priced catalog", () => {
  it("recommends the cheapest expected spot zone, with interruptions, checkpoints and the saving vs on-demand", () => {
    const result = planOf(training())
    const best = result.options[0]
    assert.strictEqual(best?.purchaseOption, "spot")
    assert.strictEqual(best?.availabilityZone, "usw2-az1")
    assert.strictEqual(best?.baseHours, 100)
    assert.strictEqual(best?.expectedHours, 104.19)
    assert.strictEqual(best?.expectedCostUsd, 520.95)
    assert.strictEqual(best?.onDemandCostUsd, 2202.2)
    assert.strictEqual(best?.savingVsOnDemandUsd, 1681.25)
    assert.strictEqual(best?.checkpointEveryMinutes, 75.2) // τ = 1.2530 h
    assert.strictEqual(best?.launchHours, 0.1)
    assert.deepStrictEqual(best?.interruptionRisk, { bucket: 4, label: ">20%", interruptionsPerHour: 0.0297229, expectedInterruptions: 3.0939 })
    assert.deepStrictEqual(best?.capacityRisk, {
      obtainProbability: 1,
      basis: "placement-score",
      label: "likely (100%)",
      expectedWaitHours: 0,
      onDemandFallbackHours: 0,
      onDemandFallbackHourlyUsd: 22
    })
    assert.match(best?.reason ?? "", /^spot in usw2-az1 \(us-west-2\): cheapest of 3 zones for p4d\.24xlarge; next use1-az1 at \$617\.30/)
    assert.match(best?.reason ?? "", /expected \$520\.95 at the spot price \$5\.00\/h/)
    assert.match(best?.reason ?? "", />20% interruption bucket, ~3\.09 expected interruptions, checkpoint every 75 min/)
    assert.match(best?.reason ?? "", /saves \$1,681\.25 \(76%\) vs on-demand p4d\.24xlarge in us-west-2/)
  })

  it("reads the advisor literally over a 730-hour month only when asked (spotExposureHours)", () => {
    const best = planOf(training(), { spotExposureHours: 730 }).options[0]
    assert.strictEqual(best?.expectedHours, 100.58)
    assert.strictEqual(best?.expectedCostUsd, 502.92)
    assert.deepStrictEqual(best?.interruptionRisk, { bucket: 4, label: ">20%", interruptionsPerHour: 0.000488596, expectedInterruptions: 0.0491 })
  })

  it("prices a type the advisor does not list as the worst bucket, and says so in the label and the reason", () => {
    // The same p4d.24xlarge, plus a spot zone in eu-west-1 at $4 with no advisor entry: it is cheapest, but its risk
    // is assumed, never read as low.
    const unlisted: Catalog = {
      ...fixtureCatalog,
      offers: [
        ...fixtureCatalog.offers,
        { ...onDemandOffer, region: "eu-west-1", hourlyPriceUsd: 21 },
        { ...onDemandOffer, region: "eu-west-1", purchaseOption: "spot", availabilityZone: "euw1-az1", hourlyPriceUsd: 4 }
      ]
    }
    const result = evaluatePlan(training(), indexCatalog(unlisted), options)
    if (result.status !== "ok") throw new Error(result.detail)
    const best = result.options[0]
    assert.strictEqual(best?.availabilityZone, "euw1-az1")
    assert.strictEqual(best?.interruptionRisk?.bucket, null)
    assert.strictEqual(best?.interruptionRisk?.label, "unknown (assumed >20%)")
    // Priced at exactly the >20% bucket's rate, so it is never cheaper in risk than a measured worst bucket.
    assert.strictEqual(best?.interruptionRisk?.interruptionsPerHour, significant(spotRisk(4).interruptionsPerHour))
    // The same billed hours as the >20% zone usw2-az1 in the first test (104.19 h × $4 = $416.76), but nothing is
    // known about its capacity: the prior for an unlisted full node is 0.5 × 0.8 = 0.4, so with D = M·(1 − a)/a =
    // 33.644 × 1.5 = 50.47 h the job waits 0.6 × D before its first launch and D after each of its 3.094
    // interruptions: 186.42 h, 290.61 h in all.
    assert.strictEqual(best?.expectedCostUsd, 416.76)
    assert.strictEqual(best?.expectedHours, 290.61)
    assert.deepStrictEqual(
      [best?.capacityRisk.obtainProbability, best?.capacityRisk.basis, best?.capacityRisk.expectedWaitHours],
      [0.4, "prior", 186.42]
    )
    assert.match(best?.reason ?? "", /interruption bucket unknown \(no Spot Instance Advisor entry\), priced as >20%, ~[0-9.]+ expected interruptions/)
    assert.notMatch(best?.reason ?? "", /unknown interruption bucket,/)
  })

  it("lists one option per purchase option and term, each at its cheapest region and zone", () => {
    const result = planOf(training())
    assert.deepStrictEqual(
      result.options.map((o) => [o.purchaseOption, o.region, o.availabilityZone, o.expectedCostUsd]),
      [
        ["spot", "us-west-2", "usw2-az1", 520.95],
        // (100 h + the 0.1 h launch) × $20.
        ["on-demand", "us-east-1", null, 2002],
        // 1-yr reservation bought for a 100-hour job: the whole year, 8,760 h × $12 = $105,120.
        ["reserved", "us-east-1", null, 105_120]
      ]
    )
    const reserved = result.options[2]
    assert.strictEqual(reserved?.utilization, 0.0114) // 100.1 / 8760
    assert.strictEqual(reserved?.breakEvenUtilization, 0.6) // $12 / $20
    assert.isTrue(reserved?.priceIsEstimate)
    assert.deepStrictEqual(result.catalog, { source: "file", asOf: "2026-01-01", description: "test fixture", notes: ["fixture note"] })
  })

  it("recommends on-demand when the deadline leaves spot too little slack for its overhead", () => {
    // Pinned to 8 GPUs (no second node). On demand: 100 h + the 0.1 h launch + 0.05 h of waiting = 100.15 h ≤ 100.2 h.
    // Spot alone would take 104.19 h, so the policy can hold spot only as long as the slack absorbs its overhead:
    // t ≤ (100.1 − 100) / (1 − 1/1.040909) = 2.55 h, and the rest goes on the on-demand fallback. Spot saves under
    // 10% then, and ranks after the options that do.
    const result = planOf(training({ deadlineHours: 100.2 }, { resources: { accelerators: ["A100-40GB:8"] } }))
    assert.strictEqual(result.options[0]?.purchaseOption, "on-demand")
    assert.strictEqual(result.options[0]?.expectedCostUsd, 2002)
    assert.strictEqual(result.options[0]?.expectedHours, 100.15)
    assert.match(result.options[0]?.reason ?? "", /spot saves under 10% \(\$1,953\.36, 96\.5 h of it on the on-demand fallback/)
    assert.match(result.options[0]?.reason ?? "", /no commitment: the job would use 1% of a 1-yr standard reserved/)
    const spot = evaluatePlan(training({ deadlineHours: 100.2 }, { resources: { accelerators: ["A100-40GB:8"] } }), indexCatalog(fixtureCatalog), { ...options, top: 10 })
      .options.find((o) => o.purchaseOption === "spot")
    assert.isTrue(spot?.meetsDeadline)
    assert.isAbove(spot?.capacityRisk.onDemandFallbackHours ?? 0, 90)
  })

  it("keeps a deadline spot alone would miss by finishing on on-demand, and says which prices decide the cost", () => {
    // Deadline 102.5 h: spot alone takes 102.88 h in use1-az1 (bucket 2). The policy holds spot while the slack
    // absorbs its overhead, t = (102.4 − 100) / (1 − 1/1.027831) = 88.62 h (86.22 h of work), then finishes the
    // 13.78 h left on on-demand after one relaunch (0.1 h + δ).
    const result = planOf(training({ deadlineHours: 102.5 }, { resources: { accelerators: ["A100-40GB:8"] } }))
    const best = result.options[0]
    assert.strictEqual(best?.purchaseOption, "spot")
    assert.strictEqual(best?.availabilityZone, "use1-az1")
    assert.isTrue(best?.meetsDeadline)
    assert.isAtMost(best?.expectedHours ?? Infinity, 102.5)
    const t = 2.4 / (1 - 1 / 1.027831)
    assert.approximately(best?.capacityRisk.onDemandFallbackHours ?? 0, 100 - t / 1.027831 + 0.1 + 84 / 3600, 0.02)
    // (t + 0.1) h × $6 + fallback × $20.
    assert.approximately(best?.expectedCostUsd ?? 0, (t + 0.1) * 6 + (100 - t / 1.027831 + 0.1 + 84 / 3600) * 20, 0.5)
    assert.match(best?.reason ?? "", /at the spot price \$6\.00\/h and \$[0-9,.]+ for 13\.9 h of on-demand fallback at \$20\.00\/h/)
  })

  it("adds instances to meet a deadline one node cannot: 2 × p4d.24xlarge take 55.56 h", () => {
    const result = planOf(training({ deadlineHours: 60 }))
    const best = result.options[0]
    assert.strictEqual(best?.instanceCount, 2)
    assert.strictEqual(best?.baseHours, 55.56)
    assert.isTrue(best?.meetsDeadline)
    assert.strictEqual(best?.purchaseOption, "spot")
  })

  it("excludes spot for a job that is not interruptible", () => {
    const result = planOf(training({ interruptible: false }))
    assert.isFalse(result.options.some((o) => o.purchaseOption === "spot"))
    assert.strictEqual(result.options[0]?.purchaseOption, "on-demand")
    assert.match(result.options[0]?.reason ?? "", /not interruptible, so no spot/)
    assert.deepStrictEqual(result.constraints.purchaseOptions, ["on-demand", "reserved", "savings-plan"])
  })

  it("charges inter-region transfer for data in another region ($0.02/GB out of us-east-1)", () => {
    const result = planOf(training({}, { data: { region: "us-east-1", sizeGB: 1000 } }))
    const best = result.options[0]
    // usw2-az1: $520.95 + 1,000 GB × $0.02 = $540.95, still below use1-az1's $617.30.
    assert.strictEqual(best?.availabilityZone, "usw2-az1")
    assert.strictEqual(best?.transferCostUsd, 20)
    assert.strictEqual(best?.expectedCostUsd, 540.95)
    assert.strictEqual(best?.onDemandCostUsd, 2222.2)
  })

  it("prices a 24/7 service per month and recommends a commitment above its break-even", () => {
    const service = workload({ name: "chat", kind: "inference", model: { parameters: "7B" }, inference: { tokensPerSecond: 100 } })
    const result = planOf(service)
    assert.strictEqual(result.costPeriod, "month")
    const best = result.options[0]
    // 730 h × $12 = $8,760 a month against 730 h × $20 = $14,600 on demand.
    assert.strictEqual(best?.purchaseOption, "reserved")
    assert.strictEqual(best?.expectedCostUsd, 8760)
    assert.strictEqual(best?.savingVsOnDemandUsd, 5840)
    assert.strictEqual(best?.utilization, 1)
    assert.strictEqual(best?.breakEvenUtilization, 0.6)
    assert.match(best?.reason ?? "", /1-yr standard reserved \(all-upfront, estimated rate\) p4d\.24xlarge in us-east-1: \$8,760\.00\/month/)
  })

  it("says why not a commitment when a service runs below the break-even", () => {
    const service = workload({
      name: "office-hours",
      kind: "inference",
      model: { parameters: "7B" },
      inference: { tokensPerSecond: 100, hoursPerMonth: 200 }
    })
    const best = planOf(service).options[0]
    // 200 h × $20 = $4,000 on demand; the reservation bills all 730 h: $8,760.
    assert.strictEqual(best?.purchaseOption, "on-demand")
    assert.strictEqual(best?.expectedCostUsd, 4000)
    assert.match(best?.reason ?? "", /no commitment: the service runs 27% of the month, below the 60% break-even/)
  })

  it("names the deadline when even the fastest placement is too slow", () => {
    // The most GPUs reachable: 8 × 128 = 1,024 → 800 / 1024 / 0.9 = 0.87 h, plus the 0.1 h launch; on demand,
    // 128 full nodes together launch with probability 0.95^(1 + log2 128) = 0.66, a 0.34 h wait; spot (certain
    // capacity here) is faster even with its interruptions.
    const error = failure(training({ deadlineHours: 0.5 }))
    assert.strictEqual(error.constraint, "constraints.deadlineHours")
    assert.match(error.detail, /^the fastest option needs 1\.15 h \(p4d\.24xlarge × 128 spot in use1-az1\); the deadline is 0\.5 h$/)
    assert.strictEqual(error.workload, "finetune")
  })

  it("names the budget when the cheapest option meeting the deadline costs more", () => {
    const error = failure(training({ budgetUsd: 500 }))
    assert.strictEqual(error.constraint, "constraints.budgetUsd")
    assert.strictEqual(error.detail, "the cheapest option costs $520.95 (p4d.24xlarge × 1 spot in usw2-az1); the budget is $500.00")
  })

  it("names the regions, the accelerators and the purchase options when they leave nothing", () => {
    assert.strictEqual(failure(training({ regions: ["eu-west-1"] })).constraint, "constraints.regions")
    assert.strictEqual(failure(training({}, { resources: { accelerators: ["A10G"] } })).constraint, "resources.accelerators")
    assert.strictEqual(
      failure(training({ interruptible: false }, { resources: { purchaseOptions: ["spot"] } })).constraint,
      "resources.purchaseOptions"
    )
  })

  it("gives byte-identical JSON for the same input, whatever the order of the catalog's offers", () => {
    const w = training({ deadlineHours: 72 }, { data: { region: "us-east-1", sizeGB: 10 } })
    const first = JSON.stringify(Effect.runSync(plan(w, fixtureCatalog, options)))
    const again = JSON.stringify(Effect.runSync(plan(w, fixtureCatalog, options)))
    const shuffled = {
      ...fixtureCatalog,
      offers: [...fixtureCatalog.offers].reverse(),
      instanceTypes: [...fixtureCatalog.instanceTypes].reverse()
    }
    assert.strictEqual(again, first)
    assert.strictEqual(JSON.stringify(Effect.runSync(plan(w, shuffled, options))), first)
  })
})
