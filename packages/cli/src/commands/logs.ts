/**
 * `frugal logs JOB [--attempt N] [--json]`: each attempt of a job: the trainer's events the ledger recorded
 * (started, progress, checkpoints, the end) and its log file (stderr and non-protocol stdout).
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { lazy } from "../Lazy.ts"

const job = Argument.String("job").pipe(Argument.withDescription("A job id (frugal status lists them)"), Argument.withMetavar("JOB"))
const attempt = Flag.Int("attempt").pipe(Flag.withDescription("Only this attempt (1, 2, ...)"), Flag.optional)
const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print { job, attempts: [{ sequence, id, outcome, exitDetail, logPath, events, lines }] }"),
  Flag.withDefault(false)
)

export const logs = Command.make("logs", { job, attempt, json }, lazy(() => import("./runner/Logs.ts"))).pipe(
  Command.withDescription("Print what each attempt of a job did: the events the ledger recorded, then its log file")
)
