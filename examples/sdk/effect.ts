/** The same operations as Effect programs, for code that runs Effect: provide the services, handle errors by tag. */
import { readFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import { EmbeddedCatalog, gpuPriceList, isFleetPlan, planWorkloads } from "@frugal/sdk"
import { jobsStatusReport, ledgerLayer } from "@frugal/sdk/jobs"

const cheapest = planWorkloads(readFileSync("examples/impossible-deadline.yaml", "utf8"), { top: 1 }).pipe(
  Effect.map((plan) => (isFleetPlan(plan) ? "a fleet" : `${plan.options[0]?.instanceType}`)),
  Effect.catchTag("NoFeasiblePlacement", (error) => Effect.succeed(`infeasible: ${error.constraint}`))
)
const program = Effect.gen(function*() {
  console.log(yield* cheapest)
  const prices = yield* gpuPriceList({ region: "us-west-2", gpu: "A100" })
  console.log(`${prices.instances.length} A100 types in us-west-2`)
  // The ledger is a layer too: here the one FRUGAL_HOME names, as the command line uses.
  const jobs = yield* Effect.provide(jobsStatusReport, ledgerLayer(process.env))
  console.log(`${jobs.jobs.length} jobs in the ledger`)
})

await Effect.runPromise(Effect.provide(program, EmbeddedCatalog.layer))
