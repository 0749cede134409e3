/** Rejections are the tagged error classes: tell them apart by `_tag` or `instanceof`, and read their fields. */
import { readFileSync } from "node:fs"
import { Frugal, InvalidInput, NoFeasiblePlacement } from "@frugal/sdk"
import { JobNotFound } from "@frugal/sdk/jobs"

await using frugal = Frugal.make()
const rejection = (call: Promise<unknown>): Promise<unknown> => call.then(() => undefined, (error: unknown) => error)

// A mistake in the workload: every field at fault, by its path (exit 2 on the command line).
const invalid = await rejection(frugal.plan({ name: "oops", kind: "training", model: { parameters: "7B", precision: "fp64" }, training: { tokens: "1B" } }))
if (invalid instanceof InvalidInput) {
  for (const issue of invalid.issues) console.log(`${invalid._tag} ${issue.path}: expected ${issue.expected}, got ${issue.actual}`)
}

// Nothing meets the constraints: the one that binds, and what the best option achieves (exit 3).
const infeasible = await rejection(frugal.plan(readFileSync("examples/impossible-deadline.yaml", "utf8")))
if (infeasible instanceof NoFeasiblePlacement) console.log(`${infeasible._tag} ${infeasible.constraint}: ${infeasible.detail}`)

// A job id the ledger does not have (exit 2).
const unknown = await rejection(frugal.status("no-such-job"))
if (unknown instanceof JobNotFound) console.log(`${unknown._tag} ${unknown.jobId}: ${unknown.message}`)
