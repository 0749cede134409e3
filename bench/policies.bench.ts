/**
 * The spot-policy table of docs/spot-policy.md: every single-node AWS availability trace of the
 * Can't Be Late set (2022-10-26, 8 traces; 2023-02-15, 9 zones with SkyNomad's spot prices), the
 * paper's setting (C = 48 h, job fractions 0.6/0.7/0.8/0.9, changeover d = 0.1/0.2/0.4 h, 300
 * random starts per trace), one zone and several. Per policy: mean cost normalised to
 * on-demand-only / p90, deadline misses, and the CPU time the policy took over the whole table.
 * The cells are split over two worker threads (the machine has two cores).
 * `optimal` here is the Lagrangian lower bound (the exact DP is in the tests; on the 2022 traces at
 * 0.8/0.2 the two differ by 0.0014). `pnpm bench policies`.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads"
import {
  frugalPolicy,
  greedyPolicy,
  type PolicyOrOptimal,
  policyName,
  runExperiment,
  uniformProgressPolicy
} from "../packages/planner/src/index.ts"
import { FEB_2023, loadZoneSets, OCT_2022, paperJob } from "../packages/planner/test/simulate/Traces.ts"

const STARTS = 300
const SEED = 1
const WORKERS = 2
const POLICIES: ReadonlyArray<PolicyOrOptimal> = [greedyPolicy, uniformProgressPolicy, frugalPolicy, "optimal"]

interface Cell {
  readonly label: string
  readonly dir: string
  readonly zones: "single" | "multi"
  readonly fraction: number
  readonly d: number
}
interface CellResult {
  readonly index: number
  readonly mean: Record<string, number>
  readonly p90: Record<string, number>
  readonly misses: Record<string, number>
  readonly seconds: Record<string, number>
}

const cells: ReadonlyArray<Cell> = [["2022-10-26", OCT_2022], ["2023-02-15", FEB_2023]].flatMap(([label = "", dir = ""]) =>
  (["single", "multi"] as const).flatMap((zones) =>
    [0.6, 0.7, 0.8, 0.9].flatMap((fraction) => [0.1, 0.2, 0.4].map((d) => ({ label, dir, zones, fraction, d })))
  )
)

const runCell = (cell: Cell, index: number): CellResult => {
  const sets = loadZoneSets(cell.dir, cell.zones)
  const job = paperJob(cell.fraction, cell.d)
  const result: CellResult = { index, mean: {}, p90: {}, misses: {}, seconds: {} }
  for (const policy of POLICIES) {
    const name = policyName(policy)
    // CPU time of this thread, so that other processes on the machine do not inflate it.
    const t0 = process.threadCpuUsage()
    const summary = runExperiment(sets, job, [policy], { starts: STARTS, seed: SEED, optimal: "bound" })[name]
    const t1 = process.threadCpuUsage()
    result.seconds[name] = (t1.user + t1.system - t0.user - t0.system) / 1e6
    result.mean[name] = summary?.meanCostNormalized ?? Number.NaN
    result.p90[name] = summary?.p90CostNormalized ?? Number.NaN
    result.misses[name] = summary?.deadlineMisses ?? 0
  }
  return result
}

if (!isMainThread) {
  const part = Number(workerData)
  // Interleave the cells so that both workers get a share of the slow (2023, multi-zone) ones.
  const results = cells.flatMap((cell, index) => (index % WORKERS === part ? [runCell(cell, index)] : []))
  parentPort?.postMessage(results)
} else {
  const started = performance.now()
  const parts = await Promise.all(
    Array.from({ length: WORKERS }, (_, part) =>
      new Promise<ReadonlyArray<CellResult>>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: part })
        worker.once("message", resolve)
        worker.once("error", reject)
      }))
  )
  const results = parts.flat().sort((a, b) => a.index - b.index)
  const names = POLICIES.map(policyName)
  console.log(`| traces | zones | fraction | d (h) | ${names.join(" | ")} | frugal vs UP |`)
  console.log(`|---|---|---|---|${names.map(() => "---|").join("")}---|`)
  let beats = 0
  let singleRows = 0
  for (const result of results) {
    const cell = cells[result.index]
    if (cell === undefined) continue
    const up = result.mean["uniform-progress"] ?? Number.NaN
    const frugal = result.mean["frugal"] ?? Number.NaN
    const optimal = result.mean["optimal"] ?? Number.NaN
    const better = frugal <= up && (result.p90["frugal"] ?? 0) <= (result.p90["uniform-progress"] ?? 0)
    if (cell.zones === "single") {
      singleRows++
      if (better) beats++
    }
    const row = names.map((name) => {
      const late = result.misses[name] ?? 0
      return `${(result.mean[name] ?? Number.NaN).toFixed(3)} / ${(result.p90[name] ?? Number.NaN).toFixed(3)}${late > 0 ? ` (${late} late)` : ""}`
    })
    const closed = ((up - frugal) / (up - optimal)) * 100
    console.log(`| ${cell.label} | ${cell.zones} | ${cell.fraction} | ${cell.d} | ${row.join(" | ")} | ${better ? "≤" : ">"} UP, ${closed.toFixed(0)}% of gap |`)
  }
  console.log("")
  console.log(`cells: mean / p90 of cost ÷ on-demand-only cost; ${STARTS} starts per trace (single) or per group of zones (multi)`)
  for (const name of names) {
    const seconds = results.reduce((sum, r) => sum + (r.seconds[name] ?? 0), 0)
    const misses = results.reduce((sum, r) => sum + (r.misses[name] ?? 0), 0)
    console.log(`${name.padEnd(17)} ${seconds.toFixed(1).padStart(6)} s CPU   deadline misses: ${misses}`)
  }
  console.log(`frugal ≤ uniform-progress (mean and p90), single zone: ${beats} of ${singleRows} settings`)
  console.log(`whole table: ${((performance.now() - started) / 1000).toFixed(1)} s wall on ${WORKERS} worker threads`)
}
