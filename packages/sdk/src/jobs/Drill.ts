/**
 * `frugal drill` / `Frugal.drill`: a pre-emption drill for any training command. Runs the job once uninterrupted and
 * once interrupted N times on this machine, and reports whether both end with the same weights, bit for bit.
 */
import * as Effect from "effect/Effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type InputIssue, InvalidInput } from "@frugal/core"
import { type DrillFailed, type drillJson, type DrillReport, LocalRunner, runDrill, type RunnerError } from "@frugal/runner"
import type { PythonNotFound } from "@frugal/trainer"
import type { Environment } from "../Catalogs.ts"
import type { WorkloadInput } from "../WorkloadInput.ts"
import { launchFor, singleWorkload } from "./TrainerLaunch.ts"

export interface DrillRequest {
  /** Where the workload came from: relative `run` paths resolve next to it, and errors name it. */
  readonly source?: string | undefined
  /** How many times to interrupt the second run (default 5, 1 to 1000). */
  readonly interruptions?: number | undefined
  /** Seed for the interruption steps (default 1). */
  readonly seed?: number | undefined
  /** SIGKILL without warning (a lost node) instead of SIGTERM with a grace period (a spot reclaim). */
  readonly hardKill?: boolean | undefined
  /** Seconds between SIGTERM and SIGKILL (default 60). */
  readonly graceSeconds?: number | undefined
  /** Each step of the drill, in words ("reference run (uninterrupted)…"). */
  readonly onProgress?: ((line: string) => Effect.Effect<void>) | undefined
  readonly env: Environment
}

/** What `frugal drill --json` prints. */
export type DrillJson = ReturnType<typeof drillJson>

const checkRequest = (request: DrillRequest): Effect.Effect<{ readonly interruptions: number; readonly graceSeconds: number }, InvalidInput> => {
  const interruptions = request.interruptions ?? 5
  const graceSeconds = request.graceSeconds ?? 60
  const issues: Array<InputIssue> = []
  if (!Number.isInteger(interruptions) || interruptions < 1 || interruptions > 1000) {
    issues.push({ path: "interruptions", expected: "a whole number from 1 to 1000", actual: String(interruptions) })
  }
  if (!(graceSeconds >= 0 && graceSeconds <= 3600)) {
    issues.push({ path: "graceSeconds", expected: "a number of seconds from 0 to 3,600", actual: String(graceSeconds) })
  }
  return issues.length === 0
    ? Effect.succeed({ interruptions, graceSeconds })
    : Effect.fail(new InvalidInput({ source: issues.map((issue) => issue.path).join(", "), issues }))
}

/**
 * Runs the drill in a temporary directory, removed when it ends well; when it fails the directory is kept (its
 * checkpoints and logs explain why) and named through `onProgress`. A run whose weights differ is a report with
 * `identical: false`, not a failure.
 */
export const drillWorkload = Effect.fn("Frugal.drill")(function*(
  workload: WorkloadInput,
  request: DrillRequest
): Effect.fn.Return<DrillReport, InvalidInput | PythonNotFound | DrillFailed | RunnerError> {
  const { interruptions, graceSeconds } = yield* checkRequest(request)
  const source = request.source === "-" ? "stdin" : request.source
  const decoded = yield* singleWorkload(workload, source)
  const progress = request.onProgress ?? (() => Effect.void)
  const workDirectory = mkdtempSync(join(tmpdir(), "frugal-drill-"))
  const launch = yield* launchFor(request.source, decoded, join(workDirectory, "unused"), request.env)
  return yield* runDrill(launch, {
    interruptions,
    seed: request.seed ?? 1,
    hardKill: request.hardKill ?? false,
    graceSeconds,
    workDirectory,
    onProgress: progress
  }).pipe(
    Effect.tap(() => Effect.sync(() => rmSync(workDirectory, { recursive: true, force: true }))),
    Effect.tapError(() => progress(`checkpoints and logs kept in ${workDirectory}`)),
    Effect.provide(LocalRunner.layer)
  )
})
