/**
 * `frugal drill FILE [--interruptions N] [--seed S] [--hard-kill] [--json]`: a pre-emption drill. Runs the
 * job once uninterrupted and once interrupted N times, and proves both end with the same weights.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { within } from "../FlagBounds.ts"
import { lazy } from "../Lazy.ts"

const file = Argument.String("file").pipe(
  Argument.withDescription("Workload spec with one training workload (its run: command, or the reference trainer)"),
  Argument.withMetavar("FILE")
)
const interruptions = Flag.Int("interruptions").pipe(
  Flag.withDescription("How many times to interrupt the second run (default 5)"),
  Flag.withDefault(5)
)
const seed = Flag.Int("seed").pipe(Flag.withDescription("Seed for the interruption steps (default 1)"), Flag.withDefault(1))
const hardKill = Flag.Boolean("hard-kill").pipe(
  Flag.withDescription("SIGKILL without warning (a lost node) instead of SIGTERM with a grace period (a spot reclaim)"),
  Flag.withDefault(false)
)
const graceSeconds = Flag.Finite("grace-seconds").pipe(
  Flag.withDescription("Seconds between SIGTERM and SIGKILL (default 60, at most an hour)"),
  within("grace-seconds", 0, 3600, "seconds"),
  Flag.withDefault(60)
)
const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print { identical, referenceHash, finalHash, interruptions, checkpointOverheadPct }"),
  Flag.withDefault(false)
)

export const drill = Command.make(
  "drill",
  { file, interruptions, seed, hardKill, graceSeconds, json },
  lazy(() => import("./runner/Drill.ts"))
).pipe(
  Command.withDescription("Pre-emption drill: interrupt a training run N times and prove it ends bitwise identical"),
  Command.withExamples([
    { command: "frugal drill examples/run/tiny-train.yaml", description: "5 SIGTERM interruptions of the tiny reference GPT" },
    { command: "frugal drill examples/run/tiny-train.yaml --hard-kill --json", description: "SIGKILL instead, as JSON" }
  ])
)
