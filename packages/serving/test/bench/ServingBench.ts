/** The service simulator's benchmark (run by bench/serving.bench.ts; see there). */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { decodeWorkloadFile, workloadsOf } from "@frugal/core"
import { decodeTraceFiles } from "@frugal/planner"
import { EmbeddedCatalog, PriceCatalog } from "@frugal/pricing"
import {
  DEFAULT_DAILY_PROFILE,
  decodeRequestTrace,
  POLICY_NAMES,
  type PolicySummary,
  simulateServiceWorkload
} from "../../src/index.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..")
const ZONES = "packages/planner/data/spot-traces/availability/1-node/aws-02-15-2023"
const WORKLOAD = "examples/service-chat.yaml"
const trace = (name: string) => `packages/serving/data/request-traces/AzureLLMInferenceTrace_${name}.csv`

const program = Effect.gen(function*() {
  const [workload] = workloadsOf(yield* decodeWorkloadFile(readFileSync(join(root, WORKLOAD), "utf8"), WORKLOAD))
  if (workload === undefined) throw new Error("one workload")
  const files = readdirSync(join(root, ZONES)).filter((f) => f.endsWith(".json")).map((f) => ({ path: `${ZONES}/${f}`, text: readFileSync(join(root, ZONES, f), "utf8") }))
  const spotTraces = yield* decodeTraceFiles(files)
  const catalog = yield* (yield* PriceCatalog).catalog()
  const requests = {
    conv: yield* decodeRequestTrace(readFileSync(join(root, trace("conv")), "utf8"), trace("conv")),
    code: yield* decodeRequestTrace(readFileSync(join(root, trace("code")), "utf8"), trace("code"))
  }
  const simulate = (name: "conv" | "code", options: { days: number; startHours: number; rateScale: number; policies: ReadonlyArray<(typeof POLICY_NAMES)[number]>; baseline?: number }) =>
    simulateServiceWorkload({
      workload,
      workloadSource: WORKLOAD,
      requests: requests[name],
      spotTraces,
      spotTracesSource: ZONES,
      catalog,
      policies: options.policies,
      rateScale: options.rateScale,
      days: options.days,
      startHours: options.startHours,
      profile: DEFAULT_DAILY_PROFILE,
      baselines: options.baseline === undefined ? {} : { onDemandBase: options.baseline }
    })

  // 1. A month, every policy.
  yield* simulate("conv", { days: 1, startHours: 0, rateScale: 1, policies: POLICY_NAMES }) // warm-up (JIT)
  const cpu0 = process.threadCpuUsage()
  const wall0 = performance.now()
  const month = yield* simulate("conv", { days: 30, startHours: 0, rateScale: 1, policies: POLICY_NAMES })
  const cpu1 = process.threadCpuUsage()
  const seconds = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 1e6
  console.log(`A month (${month.settings.minutes} minutes) over ${month.settings.spotTraces.zones.length} zones, all ${POLICY_NAMES.length} policies: ${seconds.toFixed(2)} s CPU, ${((performance.now() - wall0) / 1000).toFixed(2)} s wall (target ≤ 2 s)`)
  for (const name of POLICY_NAMES) {
    const one0 = process.threadCpuUsage()
    yield* simulate("conv", { days: 30, startHours: 0, rateScale: 1, policies: [name] })
    const one1 = process.threadCpuUsage()
    console.log(`  ${name.padEnd(17)} ${((one1.user + one1.system - one0.user - one0.system) / 1e6).toFixed(2)} s (with on-demand for the ratio)`)
  }

  // 2. Robustness: traces × rate scales × one-week windows.
  const row = (label: string, p: Record<string, PolicySummary>) => {
    const cell = (name: string) => {
      const s = p[name]
      return s === undefined ? "" : `${s.costVsOnDemand.toFixed(3)} ${(s.availability * 100).toFixed(2)}% ${s.overloadedRequestsPct.toFixed(2)}%`
    }
    const onDemand = p["on-demand"]
    return `${label.padEnd(16)} | ${cell("frugal").padEnd(22)} | ${cell("spothedge").padEnd(22)} | ${cell("skyserve").padEnd(22)} | ${cell("spot-only").padEnd(22)} |${onDemand === undefined ? "" : ` on-demand over capacity ${onDemand.overloadedRequestsPct.toFixed(2)}%`}`
  }
  console.log("\nOne-week windows: cost vs on-demand autoscaled, availability, requests over capacity")
  console.log(`${"trace×scale@h".padEnd(16)} | ${"frugal".padEnd(22)} | ${"spothedge".padEnd(22)} | ${"skyserve".padEnd(22)} | ${"spot-only".padEnd(22)} |`)
  const cases: ReadonlyArray<readonly ["conv" | "code", number]> = [["conv", 1], ["conv", 2], ["code", 2], ["code", 4]]
  const summary: Array<string> = []
  for (const [name, rateScale] of cases) {
    const tally = { windows: 0, frugalOk: 0, cheaperThanHedge: 0, cheaperThanHedgeAtBase: 0, cheaperThanSkyAtBase: 0 }
    for (const startHours of [0, 168, 336, 504, 672, 840]) {
      const week = yield* simulate(name, { days: 7, startHours, rateScale, policies: ["frugal", "spothedge", "skyserve", "spot-only", "on-demand"] })
      const atBase = yield* simulate(name, { days: 7, startHours, rateScale, policies: ["spothedge", "skyserve"], baseline: workload.kind === "inference" ? workload.service?.replicas.min ?? 1 : 1 })
      console.log(row(`${name}×${rateScale}@${startHours}`, week.policies))
      console.log(row(`  base = min`, atBase.policies))
      const f = week.policies["frugal"]
      const h = week.policies["spothedge"]
      const hb = atBase.policies["spothedge"]
      if (f === undefined || h === undefined || hb === undefined) continue
      tally.windows++
      if (f.costVsOnDemand <= 0.6 && f.availability >= 0.999 && f.overloadedRequestsPct <= 0.5) tally.frugalOk++
      if (f.costUsd < h.costUsd && f.availability >= h.availability) tally.cheaperThanHedge++
      if (f.costUsd < hb.costUsd) tally.cheaperThanHedgeAtBase++
      const sb = atBase.policies["skyserve"]
      if (sb !== undefined && (f.costUsd < sb.costUsd || sb.overloadedRequestsPct > 0.5)) tally.cheaperThanSkyAtBase++
    }
    summary.push(
      `${name}×${rateScale}: of ${tally.windows} weeks, frugal ≤ 60% of on-demand with ≥ 99.9% availability and ≤ 0.5% over capacity in ${tally.frugalOk}; ` +
        `cheaper than spothedge at equal or better availability in ${tally.cheaperThanHedge}; cheaper than spothedge with base = min in ${tally.cheaperThanHedgeAtBase}; ` +
        `cheaper than skyserve with base = min, or that skyserve over 0.5% over capacity, in ${tally.cheaperThanSkyAtBase}.`
    )
  }
  console.log(`\n${summary.join("\n")}`)
})

/** Runs the whole benchmark, printing as it goes. */
export const runServingBench = (): Promise<void> => Effect.runPromise(program.pipe(Effect.provide(EmbeddedCatalog.layer)))
