/**
 * Frugal from a program, through `@frugal/sdk` alone: plan a workload, run it, read its status, report a week's GPU
 * waste, and replay spot availability against the spot policies. Every call resolves with what the matching
 * `frugal … --json` prints.
 *
 *   node tour.ts          (in a project that installed @frugal/sdk; Node ≥ 22.19)
 *   pnpm --filter frugal-sdk-example tour          (in this repository)
 *
 * The job runs on this machine with the reference trainer (Python 3 with PyTorch), in a ledger of its own under a
 * temporary FRUGAL_HOME so the tour leaves your own ledger alone. The report reads the example week's Cost Explorer
 * and GPU-utilisation files (../waste), so no AWS account is needed anywhere.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Frugal, isFleetPlan } from "@frugal/sdk"

const example = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url))
const home = mkdtempSync(join(tmpdir(), "frugal-sdk-tour-"))
// On Node 24, `await using frugal = Frugal.make(…)` disposes it at the end of the block; Node 22 has no `using` yet.
const frugal = Frugal.make({ env: { ...process.env, FRUGAL_HOME: home } })

try {
  // 1. Plan: the cheapest placement of a 7B fine-tune that meets its 72 h deadline, on the embedded price snapshot.
  const plan = await frugal.plan(readFileSync(example("llama-7b-finetune.yaml"), "utf8"), { top: 3 })
  if (isFleetPlan(plan)) throw new Error("expected one workload")
  const best = plan.options[0]
  console.log(`plan: ${plan.workload}: ${best?.instanceCount} × ${best?.instanceType} ${best?.purchaseOption} in ${best?.region}, ` +
    `$${best?.expectedCostUsd} over ${best?.expectedHours} h (prices as of ${plan.catalog.asOf})`)

  // 2. Run: a tiny GPT on this machine, to the end; every attempt goes to the ledger.
  const workloadFile = example("run/tiny-train.yaml")
  let checkpoints = 0
  const ran = await frugal.run(readFileSync(workloadFile, "utf8"), {
    source: workloadFile,
    onEvent: (event) => {
      if (event.event === "checkpoint") checkpoints++
    }
  })
  console.log(`run: job ${ran.job.name} ${ran.job.state} at step ${ran.job.finalStep} after ${ran.attempts.length} attempt(s), ${checkpoints} checkpoints`)

  // 3. Status: what the ledger holds, as `frugal status --json`.
  const status = await frugal.status()
  console.log(`status: ${status.jobs.map((job) => `${job.name} ${job.state}`).join(", ")}`)

  // 4. Report: where a week of GPU money went, from the files `aws ce` and `aws cloudwatch` printed.
  const report = await frugal.report({ ceFiles: example("waste/cost-explorer"), utilizationFile: example("waste/gpu-utilization.json") })
  const avoidable = report.findings.reduce((sum, finding) => sum + finding.costUsd, 0)
  console.log(`report: ${report.period.start}..${report.period.end} spend $${report.totalCostUsd}, avoidable $${avoidable.toFixed(2)} ` +
    `in ${report.findings.length} findings, largest ${report.findings[0]?.kind}`)

  // 5. Simulate: a 20-hour job with a 30-hour deadline over a week of hourly spot availability (up 5 hours in 6).
  const trace = join(home, "zone-a_v100_1.csv")
  writeFileSync(trace, ["timestamp,available,price", ...Array.from({ length: 168 }, (_, hour) =>
    `${new Date(Date.UTC(2023, 1, 15) + hour * 3_600_000).toISOString()},${hour % 6 === 5 ? 0 : 1},0.9`)].join("\n"))
  const simulated = await frugal.simulate({
    trace,
    policies: ["on-demand", "greedy", "frugal"],
    computeHours: 20,
    deadlineHours: 30,
    restartHours: 0.2,
    starts: 50,
    seed: 1
  })
  for (const [name, summary] of Object.entries(simulated.policies)) {
    console.log(`simulate: ${name}: cost ${summary.meanCostNormalized.toFixed(3)} of on-demand, ${summary.deadlineMisses} deadline misses in ${summary.runs} runs`)
  }
} finally {
  await frugal.dispose()
  rmSync(home, { recursive: true, force: true })
}
