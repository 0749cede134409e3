/**
 * `frugal status [JOB] [--json]`: the jobs in the ledger, or one job's attempts with their placement,
 * duration, exit reason and cost.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { lazy } from "../Lazy.ts"

const job = Argument.String("job").pipe(
  Argument.withDescription("A job id; without it, every job in the ledger"),
  Argument.withMetavar("JOB"),
  Argument.optional
)
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of tables"), Flag.withDefault(false))

export const status = Command.make("status", { job, json }, lazy(() => import("./runner/Status.ts"))).pipe(
  Command.withDescription("Show jobs from the ledger: attempts, placements, exit reasons and cost"),
  Command.withExamples([
    { command: "frugal status", description: "Every job, newest first" },
    { command: "frugal status tiny-train-20261123-070000-ab12 --json", description: "One job's attempts as JSON" }
  ])
)
