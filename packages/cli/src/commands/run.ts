/**
 * `frugal run FILE [--runner local] [--dry-run] [--job-id ID] [--resume JOB] [--price-per-hour USD]`:
 * run a workload under the supervisor, recording every attempt in the ledger.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
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
  Flag.withDescription("What this machine costs, USD per hour, so the ledger charges local attempts (default 0)"),
  Flag.optional
)

export const run = Command.make(
  "run",
  { file, runner, dryRun, jobId, resume, pricePerHour },
  lazy(() => import("./runner/RunJob.ts"))
).pipe(
  Command.withDescription("Run a training job, relaunching and resuming it after interruptions; every attempt goes to the ledger"),
  Command.withExamples([
    { command: "frugal run examples/run/tiny-train.yaml", description: "Train the tiny reference GPT on this machine" },
    { command: "frugal run --resume tiny-train-20261123-070000-ab12", description: "Continue a job whose supervisor was killed" }
  ])
)
