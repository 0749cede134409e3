/**
 * Work lost to interruptions, from Frugal's ledger: for each attempt that ended interrupted, lost or
 * crashed, the compute between its last checkpoint (or its start) and its end was thrown away.
 */
import { LocalFailure } from "@frugal/core"
import { type AttemptRecord, type EventRecord, Ledger } from "@frugal/runner"
import { Context, Effect, Layer } from "effect"
import { existsSync } from "node:fs"
import type { LostWork, Period } from "../CostData.ts"

const dayMillis = (date: string): number => Date.parse(`${date}T00:00:00Z`)

/** Pure: attempts and their checkpoint events in, lost work out (attempts ending inside the period). */
export const lostWorkOf = (
  jobs: ReadonlyArray<{ readonly name: string; readonly attempts: ReadonlyArray<AttemptRecord>; readonly checkpoints: ReadonlyArray<EventRecord> }>,
  period: Period
): ReadonlyArray<LostWork> => {
  const lost: Array<LostWork> = []
  for (const job of jobs) {
    for (const attempt of job.attempts) {
      const ended = attempt.endedAtMillis
      if (ended === null || attempt.exitReason === null || attempt.exitReason === "completed") continue
      if (ended < dayMillis(period.start) || ended >= dayMillis(period.end)) continue
      const option = attempt.placement.purchaseOption
      if (option === "local") continue
      const lastCheckpoint = Math.max(
        attempt.startedAtMillis,
        ...job.checkpoints.filter((event) => event.attemptId === attempt.id && event.timeMillis <= ended).map((event) => event.timeMillis)
      )
      // A final checkpoint at the last step (SIGTERM handled) loses nothing.
      if (attempt.lastStep !== null && attempt.lastCheckpointStep === attempt.lastStep) continue
      const lostHours = (ended - lastCheckpoint) / 3_600_000
      if (lostHours <= 0) continue
      lost.push({
        jobId: job.name,
        attempt: attempt.sequence,
        instanceType: attempt.placement.instanceType,
        purchaseOption: option,
        interruptedAt: new Date(ended).toISOString(),
        lostHours,
        lostCostUsd: lostHours * attempt.placement.hourlyPriceUsd * attempt.placement.instanceCount
      })
    }
  }
  return lost
}

export class LostWorkSource extends Context.Service<LostWorkSource, {
  readonly lostWork: (period: Period) => Effect.Effect<ReadonlyArray<LostWork>, LocalFailure>
  /** Said in the report when there is nothing to read (no ledger). */
  readonly note: string | null
}>()("@frugal/waste/LostWorkSource") {
  static readonly layerNone: Layer.Layer<LostWorkSource> = Layer.succeed(
    LostWorkSource,
    LostWorkSource.of({ lostWork: () => Effect.succeed([]), note: "No Frugal ledger: work lost to interruptions not checked." })
  )

  /**
   * The ledger file when it exists (a report never creates one), otherwise nothing. A ledger that cannot be opened
   * still gives a source, whose `lostWork` fails with the reason, so the report can name it and keep the rest.
   */
  static readonly layerLedgerFile = (path: string): Layer.Layer<LostWorkSource> =>
    Layer.unwrap(Effect.sync(() =>
      existsSync(path)
        ? LostWorkSource.layerLedger.pipe(
          Layer.provide(Ledger.layerFile(path)),
          Layer.catchTag("LedgerError", (error) =>
            Layer.succeed(
              LostWorkSource,
              LostWorkSource.of({
                lostWork: () => Effect.fail(new LocalFailure({ operation: `read the ledger ${path} (${error.operation})`, detail: error.detail })),
                note: null
              })
            ))
        )
        : LostWorkSource.layerNone
    ))

  static readonly layerLedger: Layer.Layer<LostWorkSource, never, Ledger> = Layer.effect(
    LostWorkSource,
    Effect.gen(function*() {
      const ledger = yield* Ledger
      return LostWorkSource.of({
        lostWork: Effect.fn("LostWorkSource.lostWork")(function*(period: Period) {
          const jobs = yield* ledger.jobs
          const withAttempts = yield* Effect.forEach(jobs, (job) =>
            Effect.all({
              name: Effect.succeed(job.name),
              attempts: ledger.attempts(job.id),
              checkpoints: ledger.events(job.id, ["checkpoint"])
            }))
          return lostWorkOf(withAttempts, period)
        }, Effect.mapError((error) => new LocalFailure({ operation: `read the ledger (${error.operation})`, detail: error.detail }))),
        note: null
      })
    })
  )
}
