/** `frugal submit FILE [--team T] [--priority N] [--server URL] [--json]`: queue a workload on `frugal server`. */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { within } from "../FlagBounds.ts"
import { lazy } from "../Lazy.ts"
import { json, serverFlag } from "./scheduler/Flags.ts"

const file = Argument.String("file").pipe(Argument.withDescription("Workload spec (YAML or JSON) with one workload; - reads standard input"), Argument.withMetavar("FILE"))
const team = Flag.String("team").pipe(Flag.withDescription("The team to submit for (an admin token must name one; a team token is its own team)"), Flag.optional)
const priority = Flag.Int("priority").pipe(
  Flag.withDescription("Priority: higher runs first, and waiting raises it over time (default 0)"),
  within("priority", -1000, 1000, "a priority"),
  Flag.optional
)

export const submit = Command.make("submit", { file, team, priority, server: serverFlag, json }, lazy(() => import("./scheduler/Submit.ts"))).pipe(
  Command.withDescription("Queue a workload on frugal server (FRUGAL_SERVER, FRUGAL_TOKEN): it is checked and priced now, run when its team's budget and GPUs allow"),
  Command.withExamples([{ command: "frugal submit job.yaml --priority 10", description: "Queue a job ahead of priority-0 work" }])
)
