/** `frugal queue [--server URL] [--team T] [--state S] [--json]`: the jobs on `frugal server` this token may see. */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { lazy } from "../Lazy.ts"
import { json, serverFlag } from "./scheduler/Flags.ts"

const team = Flag.String("team").pipe(Flag.withDescription("Only this team's jobs (admin tokens)"), Flag.optional)
const state = Flag.Literals("state", ["queued", "running", "completed", "failed", "cancelled"]).pipe(Flag.withDescription("Only jobs in this state"), Flag.optional)

export const queue = Command.make("queue", { server: serverFlag, team, state, json }, lazy(() => import("./scheduler/Queue.ts"))).pipe(
  Command.withDescription("List the queue on frugal server: state, why a job waits (budget, gpus, quota, priority), team, priority, cost")
)
