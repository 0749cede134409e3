/**
 * Cluster capacity from an infrastructure profile (`frugal plan --infra`), planned with the stub estimator of
 * fixtures.ts (8 A100-40GB: 100 h; 16: 800 / 16 / 0.9 = 55.56 h) and round assumptions (launch 0.1 h, a 7B
 * checkpoint δ = 84 s = 0.023333 h), so each figure is worked by hand:
 *
 * - A preemptible partition that states 0.05 pre-emptions per node-hour is priced at that rate, λ = 0.05: one node,
 *   M = 20 h, τ = √(2δM) = 0.966092 h, relaunch 0.1 + δ = 0.123333 h, overhead δ/τ + (τ/2 + relaunch)/M =
 *   0.024152 + 0.030319 = 0.054471, so 100 h of work hold the node 105.447 h, plus the 0.1 h launch: 105.547 h at
 *   $5 = $527.74, with 105.447 / 20 = 5.27 pre-emptions. No capacity is waited for: the profile states it.
 * - A partition that states no rate is priced as an unknown bucket, and says so.
 * - An on-demand partition within its node count launches for certain: 2 nodes for 55.556 h + 0.1 h = 55.656 h at
 *   2 × $12 = $1,335.73, where the on-demand prior for 2 full nodes (0.95^2) would have added 0.0975 h of waiting.
 */
import { assert, describe, it } from "@effect/vitest"
import { decodeInfraProfile } from "@frugal/core"
import { type Catalog, catalogForProfile } from "@frugal/pricing"
import { Effect } from "effect"
import { evaluatePlan, indexCatalog, type PlacementOption, type Plan, type PlanOptions } from "../src/index.ts"
import { fixtureCatalog, roundAssumptions, stubEstimator, training } from "./fixtures.ts"

const options: PlanOptions = { estimator: stubEstimator, assumptions: roundAssumptions, top: 50 }

const profileCatalog = (yaml: string, base: Catalog = fixtureCatalog): Catalog =>
  catalogForProfile(base, Effect.runSync(decodeInfraProfile(yaml, "infra.yaml")))

const planOver = (catalog: Catalog, constraints: Record<string, unknown> = {}): Plan => {
  const result = evaluatePlan(training(constraints), indexCatalog(catalog), options)
  if (result.status !== "ok") throw new Error(`expected a plan, got ${result.constraint}: ${result.detail}`)
  return result
}

const optionOf = (plan: Plan, instanceType: string, instances?: number): PlacementOption => {
  const found = plan.options.find((option) => option.instanceType === instanceType && (instances === undefined || option.instanceCount === instances))
  if (found === undefined) {
    throw new Error(`no ${instances ?? "any"} × ${instanceType} among ${plan.options.map((o) => `${o.instanceCount} × ${o.instanceType}`).join(", ")}`)
  }
  return found
}

const scavenger = (rate: string) => `
slurm:
  - name: lab
    partitions:
      - { name: scav, accelerator: A100-40GB, gpusPerNode: 8, nodes: 1, hourlyPriceUsd: 5, preemptible: true${rate} }
`

describe("a preemptible cluster's stated pre-emption rate", () => {
  it("prices a partition stating 0.05/h at that rate, labelled as stated, with its capacity taken as stated", () => {
    const plan = planOver(profileCatalog(scavenger(", preemptionsPerHour: 0.05")))
    const option = optionOf(plan, "slurm:lab/scav")
    assert.strictEqual(plan.options[0], option)
    assert.strictEqual(option.purchaseOption, "spot")
    // A partition has no zone: none is shown, and the reason and notes say where the rate comes from.
    assert.strictEqual(option.availabilityZone, null)
    assert.match(option.reason, /^spot in slurm:lab: .*pre-emptions at the profile's stated 0\.05\/h per node, ~5\.27 expected interruptions/)
    assert.isTrue(plan.notes.some((note) => note.startsWith("Cluster capacity from the infrastructure profile is taken as stated")))
    assert.deepStrictEqual(option.interruptionRisk, { bucket: null, label: "stated 0.05/h", interruptionsPerHour: 0.05, expectedInterruptions: 5.2724 })
    assert.strictEqual(option.expectedHours, 105.55)
    assert.strictEqual(option.expectedCostUsd, 527.74)
    assert.strictEqual(option.checkpointEveryMinutes, 58) // τ = 0.966092 h
    assert.deepStrictEqual(
      [option.capacityRisk.obtainProbability, option.capacityRisk.basis, option.capacityRisk.label, option.capacityRisk.expectedWaitHours],
      [1, "stated", "stated (100%)", 0]
    )
  })

  it("ranks the same partition dearer the more often its owner says it is reclaimed", () => {
    const cost = (rate: number) => optionOf(planOver(profileCatalog(scavenger(`, preemptionsPerHour: ${rate}`))), "slurm:lab/scav").expectedCostUsd
    const costs = [0, 0.01, 0.05, 0.2, 1].map(cost)
    assert.deepStrictEqual([...costs].sort((a, b) => a - b), costs)
    assert.isBelow(costs[0] ?? 0, costs[4] ?? 0)
    // A stated 0 is priced at one reclaim per 10⁶ node-hours: τ is the whole job (100 h), so the 100 h of work, its
    // launch, one checkpoint and the reclaim's expected share: (100 + 0.1 + δ + 100 × (50 + 0.123333) / 10⁶) h × $5.
    assert.strictEqual(costs[0], 500.64)
  })

  it("takes a spot Kubernetes pool's stated rate the same way", () => {
    const catalog = profileCatalog(`
kubernetes:
  - name: prod
    pools:
      - { name: a100-spot, accelerator: A100-40GB, gpusPerNode: 8, capacityType: spot, maxNodes: 1, hourlyPriceUsd: 5, preemptionsPerHour: 0.05 }
`)
    const option = optionOf(planOver(catalog), "kubernetes:prod/a100-spot")
    assert.strictEqual(option.interruptionRisk?.label, "stated 0.05/h")
    assert.strictEqual(option.expectedCostUsd, 527.74)
  })

  it("prices a partition that states no rate as an unknown bucket, and says so", () => {
    const option = optionOf(planOver(profileCatalog(scavenger(""))), "slurm:lab/scav")
    assert.strictEqual(option.interruptionRisk?.label, "unknown (assumed >20%)")
    assert.strictEqual(option.interruptionRisk?.bucket, null)
    assert.strictEqual(option.capacityRisk.basis, "stated")
  })
})

describe("an on-demand cluster partition within its node count", () => {
  it("launches for certain: no capacity prior, no wait", () => {
    const catalog = profileCatalog(`
slurm:
  - name: lab
    partitions:
      - { name: a100, accelerator: A100-40GB, gpusPerNode: 8, nodes: 8, hourlyPriceUsd: 12 }
`)
    const option = optionOf(planOver(catalog, { deadlineHours: 72 }), "slurm:lab/a100", 2)
    assert.strictEqual(option.purchaseOption, "on-demand")
    assert.deepStrictEqual(
      [option.capacityRisk.obtainProbability, option.capacityRisk.basis, option.capacityRisk.expectedWaitHours],
      [1, "stated", 0]
    )
    assert.strictEqual(option.expectedHours, 55.66)
    assert.strictEqual(option.expectedCostUsd, 1335.73)
    assert.isTrue(option.meetsDeadline)
  })

  it("leaves EC2 on-demand under the capacity prior beside it", () => {
    const catalog = profileCatalog(`
aws:
  regions:
    us-east-1: { subnets: { use1-az1: subnet-0abc1234 }, image: ami-0123456789abcdef0 }
slurm:
  - name: lab
    partitions:
      - { name: a100, accelerator: A100-40GB, gpusPerNode: 8, nodes: 8, hourlyPriceUsd: 12 }
`)
    const plan = planOver(catalog, { deadlineHours: 72, interruptible: false })
    const ec2 = plan.options.find((option) => option.instanceType === "p4d.24xlarge" && option.instanceCount === 2)
    // 2 full p4d nodes: 0.95^(1 + log2 2) = 0.9025.
    assert.strictEqual(ec2?.capacityRisk.obtainProbability, 0.9025)
    assert.strictEqual(ec2?.capacityRisk.basis, "prior")
  })
})

/**
 * The node-count search with a deadline of 58.4 h. Two nodes' base hours, 55.556 h, are within 5% of it, so the
 * first counts stop there; but on a scavenger partition stating 0.05 pre-emptions per node-hour they take 58.96 h
 * once interruptions are paid for: M = 10 h for 2 nodes, δ = 42 s (each node writes its half), τ = 0.48305 h,
 * overhead δ/τ + (τ/2 + 0.1 + δ)/M = 0.059471, so 55.556 × 1.059471 + 0.1 h. Three nodes (37.037 h of work,
 * M = 6.667 h, δ = 28 s, overhead 0.064471) take 37.037 × 1.064471 + 0.1 = 39.52 h: the smallest count that meets
 * the deadline, which the search finds between 2 (missed) and 4 (met).
 */
describe("the node-count search, when the deadline binds", () => {
  const scavengerOf = (nodes: number) => profileCatalog(`
slurm:
  - name: lab
    partitions:
      - { name: scav, accelerator: A100-40GB, gpusPerNode: 8, nodes: ${nodes}, hourlyPriceUsd: 5, preemptible: true, preemptionsPerHour: 0.05 }
`)

  it("prices counts past the first whose base hours fit, up to the smallest that meets the deadline", () => {
    const plan = planOver(scavengerOf(8), { deadlineHours: 58.4 })
    const scav = plan.options.filter((option) => option.instanceType === "slurm:lab/scav")
    const two = scav.find((option) => option.instanceCount === 2)
    assert.isFalse(two?.meetsDeadline)
    assert.strictEqual(two?.expectedHours, 58.96)
    const best = plan.options[0]
    assert.strictEqual(best?.instanceType, "slurm:lab/scav")
    assert.strictEqual(best?.instanceCount, 3)
    assert.isTrue(best?.meetsDeadline)
    assert.strictEqual(best?.expectedHours, 39.52)
    // Doubling from the miss at 2 finds 4 meeting, then the gap between them is searched; 8 is never needed.
    assert.deepStrictEqual(scav.map((option) => option.instanceCount).sort((a, b) => a - b), [1, 2, 3, 4])
  })

  it("reaches a partition's node count when doubling would pass it", () => {
    // Three nodes in all: 1 and 2 miss, 4 is more than the partition has, so 3 is tried.
    const plan = planOver(scavengerOf(3), { deadlineHours: 58.4 })
    assert.deepStrictEqual([plan.options[0]?.instanceType, plan.options[0]?.instanceCount, plan.options[0]?.meetsDeadline], ["slurm:lab/scav", 3, true])
  })

  it("stops at the partition's node count when no count within it meets the deadline", () => {
    const result = evaluatePlan(training({ deadlineHours: 58.4 }), indexCatalog(scavengerOf(2)), options)
    assert.strictEqual(result.status, "infeasible")
    assert.isTrue(result.options.every((option) => option.instanceCount <= 2))
  })
})
