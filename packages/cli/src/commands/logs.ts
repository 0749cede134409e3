/**
 * `frugal logs JOB [--attempt N]`: the log of each attempt of a job (stderr and non-protocol stdout).
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { lazy } from "../Lazy.ts"

const job = Argument.String("job").pipe(Argument.withDescription("A job id (frugal status lists them)"), Argument.withMetavar("JOB"))
const attempt = Flag.Int("attempt").pipe(Flag.withDescription("Only this attempt (1, 2, ...)"), Flag.optional)

export const logs = Command.make("logs", { job, attempt }, lazy(() => import("./runner/Logs.ts"))).pipe(
  Command.withDescription("Print the logs of a job's attempts")
)
