/** `frugal cancel JOB [--server URL] [--json]`: cancel a job on `frugal server`. */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import { lazy } from "../Lazy.ts"
import { json, serverFlag } from "./scheduler/Flags.ts"

const job = Argument.String("job").pipe(Argument.withDescription("The job id frugal submit printed"), Argument.withMetavar("JOB"))

export const cancel = Command.make("cancel", { job, server: serverFlag, json }, lazy(() => import("./scheduler/Cancel.ts"))).pipe(
  Command.withDescription("Cancel a job on frugal server: at once while queued; a running job checkpoints and stops")
)
