/**
 * A team's queue on `frugal server` (`frugal submit | queue | cancel`): queues a workload, reads why it waits, and
 * cancels it. Needs a running server: FRUGAL_SERVER (its URL) and FRUGAL_TOKEN (your team's token).
 */
import { readFileSync } from "node:fs"
import { Frugal } from "@frugal/sdk"

await using frugal = Frugal.make()
// A local CPU job: no plan prices it, so its budget is what the scheduler reserves from the team's month.
const workload = `${readFileSync("examples/run/tiny-train.yaml", "utf8")}constraints: { budgetUsd: 0.25 }\n`

const submitted = await frugal.submit(workload, { priority: 5 })
console.log(`submitted: ${submitted.id} ${submitted.state}, expected $${submitted.expectedCostUsd.toFixed(2)}`)

const { jobs } = await frugal.queue({ state: "queued" })
for (const job of jobs) console.log(`queued: ${job.id} (${job.team}, priority ${job.priority}) waits for ${job.reason ?? "its turn"}`)

const cancelled = await frugal.cancel(submitted.id)
console.log(`cancel: ${cancelled.id} ${cancelled.cancelRequested ? "stopping" : cancelled.state}`)
