/**
 * `frugal run FILE [--infra F] [--runner local|slurm|kubernetes|ec2] [--policy P] [--dry-run] [--json]
 *   [--job-id ID] [--resume JOB] [--from-scratch] [--price-per-hour USD] [--placement-from-plan] [--catalog embedded|aws|PATH]`:
 * run a workload where its plan ranks first, failing over down the ranked list and letting the spot policy choose
 * every relaunch; every attempt goes to the ledger.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { ONLINE_POLICY_NAMES } from "@frugal/planner"
import { catalogFlag } from "../Catalogs.ts"
import { MAX_USD_PER_HOUR, within } from "../FlagBounds.ts"
import { lazy } from "../Lazy.ts"

const file = Argument.String("file").pipe(
  Argument.withDescription("Workload spec (YAML or JSON) with one workload; its run: section says what to launch"),
  Argument.withMetavar("FILE"),
  Argument.optional
)
const runner = Flag.Literals("runner", ["local", "slurm", "kubernetes", "ec2"]).pipe(
  Flag.withDescription(
    "The one engine to run on: local (this machine), slurm, kubernetes or ec2. Default: every engine the infrastructure profile configures, else local"
  ),
  Flag.optional
)
const infra = Flag.String("infra").pipe(
  Flag.withDescription("Infrastructure profile: what this account can launch (default FRUGAL_INFRA, else $XDG_CONFIG_HOME/frugal/infra.yaml)"),
  Flag.withMetavar("FILE"),
  Flag.optional
)
const dryRun = Flag.Boolean("dry-run").pipe(
  Flag.withDescription("Print what the first attempt would submit (and, with --json, the ranked placements) without starting it"),
  Flag.withDefault(false)
)
const json = Flag.Boolean("json").pipe(Flag.withDescription("With --dry-run: print the job, its ranked placements and the first launch as JSON"), Flag.withDefault(false))
const jobId = Flag.String("job-id").pipe(
  Flag.withDescription("Job id to use; if the ledger already has it, the job continues where it stopped (only with the workload it was made from)"),
  Flag.optional
)
const resume = Flag.String("resume").pipe(
  Flag.withDescription("Continue this job from the ledger and its checkpoints (after a crash or Ctrl-C); adopts attempts still running"),
  Flag.optional
)
const pricePerHour = Flag.Finite("price-per-hour").pipe(
  Flag.withDescription(
    `What this machine (or a cluster configured only by FRUGAL_SLURM_*/FRUGAL_K8S_*) costs, USD per hour (default 0, at most ${MAX_USD_PER_HOUR})`
  ),
  within("price-per-hour", 0, MAX_USD_PER_HOUR, "USD per hour"),
  Flag.optional
)
const policy = Flag.Literals("policy", ONLINE_POLICY_NAMES).pipe(
  Flag.withDescription("Spot policy that picks spot (which zone) or on-demand for each relaunch, given the work left and constraints.deadlineHours (default frugal)"),
  Flag.optional
)
const placementFromPlan = Flag.Boolean("placement-from-plan").pipe(
  Flag.withDescription("A local run charged at the plan's prices: attempts run here, placed and priced as the plan ranks them (policy: frugal unless --policy)"),
  Flag.withDefault(false)
)

const fromScratch = Flag.Boolean("from-scratch").pipe(
  Flag.withDescription(
    "When no valid checkpoint of the job remains (all invalid, or gone), start over from step 0 instead of stopping; the invalid files are set aside"
  ),
  Flag.withDefault(false)
)

export const run = Command.make(
  "run",
  { file, runner, infra, dryRun, json, jobId, resume, pricePerHour, policy, placementFromPlan, catalog: catalogFlag, fromScratch },
  lazy(() => import("./runner/RunJob.ts"))
).pipe(
  Command.withDescription("Run a training job where its plan ranks first; fail over down the ranked list and relaunch after interruptions; every attempt goes to the ledger"),
  Command.withExamples([
    { command: "frugal run examples/run/tiny-train.yaml", description: "Train the tiny reference GPT on this machine" },
    { command: "frugal run job.yaml --infra infra.yaml --dry-run --json", description: "The ranked placements and the first RunInstances / sbatch / Job" },
    { command: "frugal run --resume tiny-train-20261123-070000-ab12", description: "Continue a job whose supervisor was killed" },
    { command: "frugal run examples/run/tiny-train.yaml --policy frugal", description: "Charge attempts at the plan's spot and on-demand prices; the policy picks after each interruption" }
  ])
)
