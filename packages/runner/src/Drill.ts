/**
 * The pre-emption drill: run a training command once without interruption, then again interrupted N times
 * at random steps (SIGTERM with a grace period, as a spot reclaim or a Slurm pre-emption does, or SIGKILL,
 * as a lost node does), and check that both runs end with bitwise-identical weights. It needs nothing but
 * the trainer protocol, so a user can drill their own script before paying for spot.
 */
import { Clock, Effect, Schema, Stream } from "effect"
import { join } from "node:path"
import type { TrainerEvent } from "@frugal/trainer"
import { describeExit } from "./AttemptExit.ts"
import type { LaunchSpec } from "./LaunchSpec.ts"
import { localPlacement, type Placement } from "./Placement.ts"
import { Runner, type RunnerError } from "./Runner.ts"

export class DrillFailed extends Schema.TaggedError<DrillFailed>()("DrillFailed", {
  /** Which run went wrong: `reference` or `interrupted`. */
  run: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `drill: ${this.run} run: ${this.detail}`
  }
}

export interface DrillOptions {
  readonly interruptions: number
  readonly seed: number
  /** SIGKILL without warning instead of SIGTERM with a grace period. */
  readonly hardKill: boolean
  /** Grace after SIGTERM before SIGKILL (default 60 s). */
  readonly graceSeconds?: number
  /** An empty directory for the two runs' checkpoints and logs. */
  readonly workDirectory: string
  readonly placement?: Placement
  /** Progress lines for a terminal. */
  readonly onProgress?: (line: string) => Effect.Effect<void>
}

export interface DrillInterruption {
  /** The last step the command reached before it stopped. */
  readonly atStep: number
  /** The step the next attempt resumed from (0 when it found no checkpoint). */
  readonly resumedFromStep: number
  /** Steps done twice: `atStep - resumedFromStep`. */
  readonly lostSteps: number
  readonly signal: "SIGTERM" | "SIGKILL"
  /**
   * The newest checkpoint the command had reported durable when it was stopped (null: none yet). After SIGKILL the
   * next attempt may resume from a newer one: written and renamed into place, but not yet reported when it died.
   */
  readonly lastCheckpointStep: number | null
  /** Seconds from the stop to the next attempt's `started` event (relaunch and restore). */
  readonly restartSeconds: number
}

export interface DrillReport {
  readonly identical: boolean
  readonly referenceHash: string
  readonly finalHash: string
  readonly interruptions: ReadonlyArray<DrillInterruption>
  /** Seconds the interrupted run's loop was blocked writing checkpoints, per 100 s of reference training. */
  readonly checkpointOverheadPct: number
  readonly referenceSteps: number
  readonly referenceTrainingSeconds: number
  readonly hardKill: boolean
  readonly seed: number
}

/** The `--json` shape of ARCHITECTURE.md, exactly. */
export const drillJson = (report: DrillReport) => ({
  identical: report.identical,
  referenceHash: report.referenceHash,
  finalHash: report.finalHash,
  interruptions: report.interruptions.map(({ atStep, resumedFromStep, lostSteps }) => ({ atStep, resumedFromStep, lostSteps })),
  checkpointOverheadPct: report.checkpointOverheadPct
})

/** mulberry32: a tiny seeded generator, so `--seed` reproduces the same interruption steps. */
const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Steps at which to interrupt: one uniformly in each of the first N of N+1 equal slices of the run, so the
 * interruptions spread over the run and the last slice lets it finish. Pure.
 */
export const interruptionSteps = (totalSteps: number, interruptions: number, seed: number): ReadonlyArray<number> => {
  const random = seededRandom(seed)
  const bound = (k: number) => Math.round((k * totalSteps) / (interruptions + 1))
  return Array.from({ length: interruptions }, (_, i) => {
    const low = bound(i) + 1
    const high = Math.max(low, bound(i + 1))
    return low + Math.floor(random() * (high - low + 1))
  })
}

type Completed = Extract<TrainerEvent, { event: "completed" }>

const isoMillis = (iso: string): number => new Date(iso).getTime()

export const runDrill = (
  launch: LaunchSpec,
  options: DrillOptions
): Effect.Effect<DrillReport, DrillFailed | RunnerError, Runner> =>
  Effect.gen(function*() {
    const runner = yield* Runner
    const placement = options.placement ?? localPlacement()
    const progress = options.onProgress ?? (() => Effect.void)
    const graceSeconds = options.graceSeconds ?? 60
    const submit = (run: string, attempt: number) =>
      runner.submit({
        jobId: `drill-${run}`,
        attemptId: `drill-${run}-${attempt}`,
        placement,
        launch: { ...launch, checkpointDir: join(options.workDirectory, run, "checkpoints") },
        checkpointEverySeconds: null,
        logPath: join(options.workDirectory, run, `attempt-${attempt}.log`)
      }).pipe(
        // The drill runs where it is told; a launch the engine could not start fails the drill.
        Effect.catchTag("ProvisioningFailed", (error) => Effect.fail(new DrillFailed({ run, detail: error.message })))
      )

    // 1. The reference: one uninterrupted run.
    yield* progress("reference run (uninterrupted)…")
    const reference = yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* submit("reference", 1)
      const events = yield* Stream.runCollect(handle.events)
      const exit = yield* handle.exit
      const completed = events.find((e): e is Completed => e.event === "completed")
      const started = events.find((e) => e.event === "started")
      if (exit._tag !== "Completed" || completed === undefined || started === undefined) {
        return yield* new DrillFailed({
          run: "reference",
          detail: `${describeExit(exit)}${completed === undefined ? ", no completed event" : ""} (log: ${handle.logPath ?? "none"})`
        })
      }
      return { completed, trainingSeconds: (isoMillis(completed.time) - isoMillis(started.time)) / 1000 }
    }))
    const totalSteps = reference.completed.step
    yield* progress(`reference: ${totalSteps} steps, weights ${reference.completed.weightsSha256}`)
    if (totalSteps < options.interruptions + 1) {
      return yield* new DrillFailed({
        run: "reference",
        detail: `it has ${totalSteps} steps, too few to interrupt ${options.interruptions} times`
      })
    }

    // 2. The same command, interrupted at the drawn steps.
    const targets = interruptionSteps(totalSteps, options.interruptions, options.seed)
    const done: Array<DrillInterruption> = []
    let pending: Omit<DrillInterruption, "resumedFromStep" | "lostSteps" | "restartSeconds"> & { readonly atMillis: number } | null =
      null
    let blockingSeconds = 0
    for (let attempt = 1;; attempt++) {
      if (attempt > options.interruptions + 3) {
        return yield* new DrillFailed({ run: "interrupted", detail: `no completion after ${attempt - 1} attempts` })
      }
      const outcome = yield* Effect.scoped(Effect.gen(function*() {
        const handle = yield* submit("interrupted", attempt)
        const target = targets[done.length + (pending === null ? 0 : 1)]
        let effectiveTarget = target
        // Written by the event callback below; an object keeps TypeScript from narrowing the fields to their initial values.
        const seen: {
          stopped: boolean
          maxStep: number
          lastCheckpointStep: number | null
          interruptedAt: number | null
          completed: Completed | null
          invalid: ReadonlyArray<{ readonly path: string; readonly reason: string }> | null
        } = { stopped: false, maxStep: 0, lastCheckpointStep: null, interruptedAt: null, completed: null, invalid: null }
        yield* Stream.runForEach(handle.events, (event) =>
          Effect.gen(function*() {
            switch (event.event) {
              case "started": {
                const resumedFromStep = event.resumedFromStep ?? 0
                seen.maxStep = event.step
                seen.lastCheckpointStep = event.resumedFromStep
                if (target !== undefined) effectiveTarget = Math.max(target, event.step + 1)
                if (pending !== null) {
                  const { atMillis, ...stop } = pending
                  const now = yield* Clock.currentTimeMillis
                  done.push({
                    ...stop,
                    resumedFromStep,
                    lostSteps: Math.max(0, stop.atStep - resumedFromStep),
                    restartSeconds: (now - atMillis) / 1000
                  })
                  pending = null
                }
                return
              }
              case "checkpoint":
                blockingSeconds += event.blockingSeconds
                // Every event printed before the command died happened: a checkpoint reported is durable.
                seen.lastCheckpointStep = event.step
                return
              case "interrupted":
                seen.interruptedAt = event.step
                return
              case "completed":
                seen.completed = event
                return
              case "checkpoints-invalid":
                seen.invalid = event.rejected
                return
              case "step":
                seen.maxStep = Math.max(seen.maxStep, event.step)
                if (!seen.stopped && effectiveTarget !== undefined && event.step >= effectiveTarget && event.step < totalSteps) {
                  seen.stopped = true
                  yield* progress(
                    `interruption ${done.length + 1}/${options.interruptions}: ${options.hardKill ? "SIGKILL" : "SIGTERM"} at step ${event.step}`
                  )
                  yield* handle.cancel({ graceSeconds: options.hardKill ? 0 : graceSeconds })
                }
                return
            }
          }))
        const exit = yield* handle.exit
        return { exit, ...seen, logPath: handle.logPath }
      }))
      const completedEvent: Completed | null = outcome.completed
      if (outcome.exit._tag === "Completed" && completedEvent !== null) {
        const finalHash = completedEvent.weightsSha256
        const referenceHash = reference.completed.weightsSha256
        return {
          identical: finalHash === referenceHash,
          referenceHash,
          finalHash,
          interruptions: done,
          checkpointOverheadPct: reference.trainingSeconds > 0 ? (100 * blockingSeconds) / reference.trainingSeconds : 0,
          referenceSteps: totalSteps,
          referenceTrainingSeconds: reference.trainingSeconds,
          hardKill: options.hardKill,
          seed: options.seed
        }
      }
      if (outcome.invalid !== null) {
        return yield* new DrillFailed({
          run: "interrupted",
          detail: `attempt ${attempt} found no valid checkpoint to resume from: ${outcome.invalid.map((r) => `${r.path}: ${r.reason}`).join("; ")}`
        })
      }
      if (!outcome.stopped || outcome.exit._tag !== "Interrupted") {
        return yield* new DrillFailed({
          run: "interrupted",
          detail: `attempt ${attempt} ended on its own: ${describeExit(outcome.exit)} (log: ${outcome.logPath ?? "none"})`
        })
      }
      // A polite stop finishes the step in flight and reports it; after SIGKILL, the last step printed is all we know.
      pending = {
        atStep: options.hardKill ? outcome.maxStep : Math.max(outcome.interruptedAt ?? 0, outcome.maxStep),
        signal: options.hardKill ? "SIGKILL" : "SIGTERM",
        lastCheckpointStep: outcome.lastCheckpointStep,
        atMillis: yield* Clock.currentTimeMillis
      }
    }
  })
