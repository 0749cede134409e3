/** Run a job on this machine, read its status and logs, continue it by id: `frugal run`, `status`, `logs`, `run --resume`. */
import { readFileSync } from "node:fs"
import { Frugal } from "@frugal/sdk"
import { WorkloadMismatch } from "@frugal/sdk/jobs"

await using frugal = Frugal.make()
const source = "examples/run/tiny-train.yaml" // a GPT that trains on a CPU in seconds (Python 3 with PyTorch)
const workload = readFileSync(source, "utf8")

// Nothing starts: the job, its placements in failover order, and the first launch.
const dry = await frugal.run(workload, { source, jobId: "tiny", dryRun: true })
const first = dry.placements[0]
console.log(`dry run: job ${dry.job.id}, ${dry.placements.length} placement(s), first ${first?.runner} at $${first?.hourlyPriceUsd}/h: ${dry.job.launch.argv.slice(1, 3).join(" ")}`)

// To the end, hearing each trainer event. A failed job resolves too: `job.state` says so and `job.detail` why.
let checkpoints = 0
const ran = await frugal.run(workload, {
  source,
  jobId: "tiny",
  onEvent: (event) => {
    if (event.event === "checkpoint") checkpoints++
  }
})
console.log(`run: ${ran.job.id} ${ran.job.state} at step ${ran.job.finalStep} after ${ran.attempts.length} attempt(s), ${checkpoints} checkpoints`)

const ledger = await frugal.status()
console.log(`status: ${ledger.jobs.map((job) => `${job.id} ${job.state}`).join(", ")}`)

const logs = await frugal.logs("tiny")
for (const attempt of logs.attempts) {
  console.log(`logs: attempt ${attempt.sequence} ${attempt.outcome}: ${attempt.events.at(-1)?.text.split(",")[0]}`)
}

// Continue by id after a crash or Ctrl-C (`fromScratch` when no valid checkpoint remains); one that ended resolves at once.
const resumed = await frugal.resume("tiny")
console.log(`resume: ${resumed.job.state}, supervised by ${resumed.supervisor?.pid ?? "nobody now"}`)

// The same id with another workload is refused, naming what differs.
await frugal.run(workload.replace("tokens: 5120", "tokens: 10240"), { source, jobId: "tiny" }).catch((error: unknown) => {
  if (error instanceof WorkloadMismatch) console.log(`${error._tag}: ${error.message}`)
})
