/**
 * `frugal run FILE [--runner local] [--dry-run] [--job-id ID] [--resume JOB] [--price-per-hour USD]
 *   [--placement-from-plan] [--policy on-demand|greedy|uniform-progress|frugal] [--catalog embedded|aws|PATH]`:
 * run a workload under the supervisor, recording every attempt in the ledger.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { catalogFlag } from "../Catalogs.ts"
import { MAX_USD_PER_HOUR, within } from "../FlagBounds.ts"
import { lazy } from "../Lazy.ts"

const file = Argument.String("file").pipe(
  Argument.withDescription("Workload spec (YAML or JSON) with one workload; its run: section says what to launch"),
  Argument.withMetavar("FILE"),
  Argument.optional
)
const runner = Flag.Literals("runner", ["local", "slurm", "kubernetes", "ec2"]).pipe(
  Flag.withDescription("Where to run: local (a child process on this machine)"),
  Flag.withDefault("local")
)
const dryRun = Flag.Boolean("dry-run").pipe(
  Flag.withDescription("Print the job (argv, env, directories, placement) without starting it"),
  Flag.withDefault(false)
)
const jobId = Flag.String("job-id").pipe(
  Flag.withDescription("Job id to use; if the ledger already has it, the job continues where it stopped"),
  Flag.optional
)
const resume = Flag.String("resume").pipe(
  Flag.withDescription("Continue this job from the ledger and its checkpoints (after a crash or Ctrl-C)"),
  Flag.optional
)
const pricePerHour = Flag.Finite("price-per-hour").pipe(
  Flag.withDescription(`What this machine costs, USD per hour, so the ledger charges local attempts (default 0, at most ${MAX_USD_PER_HOUR})`),
  within("price-per-hour", 0, MAX_USD_PER_HOUR, "USD per hour"),
  Flag.optional
)

const policy = Flag.Literals("policy", ["on-demand", "greedy", "uniform-progress", "frugal"]).pipe(
  Flag.withDescription(
    "Spot policy that picks spot or on-demand for each relaunch, given compute hours left and constraints.deadlineHours (implies --placement-from-plan)"
  ),
  Flag.optional
)
const placementFromPlan = Flag.Boolean("placement-from-plan").pipe(
  Flag.withDescription(
    "Place attempts on the plan's recommended instance type: spot, and on-demand in the same region, at their prices (policy: frugal unless --policy)"
  ),
  Flag.withDefault(false)
)

export const run = Command.make(
  "run",
  { file, runner, dryRun, jobId, resume, pricePerHour, policy, placementFromPlan, catalog: catalogFlag },
  lazy(() => import("./runner/RunJob.ts"))
).pipe(
  Command.withDescription("Run a training job, relaunching and resuming it after interruptions; every attempt goes to the ledger"),
  Command.withExamples([
    { command: "frugal run examples/run/tiny-train.yaml", description: "Train the tiny reference GPT on this machine" },
    { command: "frugal run --resume tiny-train-20261123-070000-ab12", description: "Continue a job whose supervisor was killed" },
    { command: "frugal run examples/run/tiny-train.yaml --policy frugal", description: "Charge attempts at the plan's spot and on-demand prices; the policy picks after each interruption" }
  ])
)
