/**
 * The body of `bench/plan.bench.ts`, kept in the planner package so that it resolves `effect` and the workspace
 * packages the way the planner does. Prints figures; asserts nothing.
 */
import { decodeWorkloadFile, Fleet, type Workload, workloadsOf } from "@frugal/core"
import { EmbeddedCatalog } from "@frugal/pricing"
import { Effect, Schema } from "effect"
import { performance } from "node:perf_hooks"
import { indexCatalog, plan, planFleet } from "../../src/index.ts"

const decode = (text: string): ReadonlyArray<Workload> => workloadsOf(Effect.runSync(decodeWorkloadFile(text, "bench.json")))
const quantile = (values: ReadonlyArray<number>, q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`

const SIZES = ["125M", "350M", "1.3B", "3B", "7B", "13B", "34B", "70B"]
const REGION_SETS = [["us-east-1"], ["us-east-1", "us-west-2"], ["eu-west-1", "eu-central-1"], ["ap-northeast-1"]]

/** A varied fleet: training from 125M to 70B parameters, services and batch jobs, different deadlines and regions. */
export const benchFleet = (size: number): ReadonlyArray<Workload> => {
  const workloads: Array<unknown> = []
  for (let i = 0; i < size; i++) {
    const parameters = SIZES[i % SIZES.length]
    const regions = i % 3 === 0 ? {} : { regions: REGION_SETS[i % REGION_SETS.length] }
    switch (i % 4) {
      case 0:
      case 1:
        workloads.push({
          name: `train-${i}`,
          kind: "training",
          model: { parameters },
          training: { tokens: `${(i % 7) + 1}B` },
          constraints: { ...regions, deadlineHours: 24 + (i % 9) * 24, interruptible: i % 5 !== 0 }
        })
        break
      case 2:
        workloads.push({
          name: `serve-${i}`,
          kind: "inference",
          model: { parameters },
          inference: { tokensPerSecond: 100 * ((i % 10) + 1), hoursPerMonth: i % 2 === 0 ? 730 : 200 },
          constraints: { ...regions }
        })
        break
      default:
        workloads.push({
          name: `batch-${i}`,
          kind: "batch",
          batch: { gpuHours: 10 + (i % 50), referenceGpu: "T4" },
          constraints: { ...regions, deadlineHours: 48 + (i % 5) * 12 }
        })
    }
  }
  return Schema.decodeUnknownSync(Fleet)({ workloads }).workloads
}


export const runPlanBench = (): void => {
  const t0 = performance.now()
  const snapshot = EmbeddedCatalog.snapshot()
  const t1 = performance.now()
  const catalog = EmbeddedCatalog.catalog()
  const t2 = performance.now()
  const index = indexCatalog(catalog)
  const t3 = performance.now()
  console.log(
    `embedded catalog (paid once per process): check ${(t1 - t0).toFixed(1)} ms, offers ${(t2 - t1).toFixed(1)} ms, ` +
      `planner index ${(t3 - t2).toFixed(1)} ms; ` +
      `${snapshot.prices.length} price rows → ${catalog.offers.length} offers, ${index.types.length} instance types`
  )

  const [finetune] = decode(JSON.stringify({
    name: "llama-7b-finetune",
    kind: "training",
    model: { parameters: "7B", precision: "bf16" },
    training: { tokens: "20B", sequenceLength: 4096 },
    constraints: { deadlineHours: 72, interruptible: true }
  }))
  if (finetune === undefined) throw new Error("no workload")
  const first = performance.now()
  Effect.runSync(plan(finetune, catalog))
  const firstMs = performance.now() - first
  for (let i = 0; i < 50; i++) Effect.runSync(plan(finetune, catalog))
  const samples: Array<number> = []
  for (let i = 0; i < 300; i++) {
    const start = performance.now()
    Effect.runSync(plan(finetune, catalog))
    samples.push(performance.now() - start)
  }
  console.log(
    `plan (7B fine-tune, whole catalog): median ${quantile(samples, 0.5).toFixed(2)} ms, p90 ${quantile(samples, 0.9).toFixed(2)} ms, ` +
      `first call ${firstMs.toFixed(1)} ms (target: median ≤ 5 ms)`
  )

  const fleet = benchFleet(10_000)
  globalThis.gc?.()
  const before = process.memoryUsage()
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  const result = planFleet(fleet, catalog, {
    owned: [
      { kind: "reserved", instanceType: "p4d.24xlarge", region: "us-east-1", count: 4 },
      { kind: "savings-plan", commitmentUsdPerHour: 50 }
    ]
  })
  const elapsed = performance.now() - start
  const cpu = process.cpuUsage(cpuBefore)
  const after = process.memoryUsage()
  const peakRss = process.resourceUsage().maxRSS * 1024
  const json = JSON.stringify(result)
  // The work done, independent of the machine's load: placements priced over every member's plan.
  const priced = result.workloads.reduce((sum, member) => sum + (member.status === "ok" ? member.placementsPriced : 0), 0)
  console.log(
    `planFleet (${fleet.length} workloads, ${result.summary.feasible} feasible, ${result.summary.infeasible} infeasible): ` +
      `${(elapsed / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (target ≤ 3 s); ` +
      `${priced.toLocaleString("en-US")} placements priced; JSON ${mb(json.length)}`
  )
  console.log(
    `memory: peak RSS ${mb(peakRss)} up to the end of planFleet (target ≤ 300 MB; ${mb(before.rss)} before it); ` +
      `heap used ${mb(after.heapUsed)} after the fleet (${mb(before.heapUsed)} before)`
  )
}
