/**
 * Checkpoint loss, told loudly: a relaunch that cannot continue from the job's checkpoints stops the job instead of
 * training again from step 0 and reporting "completed" as if nothing had been lost. Two ways to see it:
 * - the trainer says so: every checkpoint it found failed verification (a `checkpoints-invalid` event, exit 65);
 * - the ledger says so: the job reported a checkpoint durable, yet the relaunched command started from step 0
 *   (the directory was emptied or replaced; any command speaking the protocol is held to this).
 * Starting over is then the user's call (`frugal run --resume JOB --from-scratch`). Pure.
 */
import { Option, Schema } from "effect"
import type { CheckpointsInvalidEvent, StartedEvent } from "@frugal/trainer"
import type { AttemptRecord, EventRecord } from "./LedgerRecords.ts"

export type CheckpointLoss =
  | { readonly _tag: "Invalid"; readonly event: CheckpointsInvalidEvent }
  | { readonly _tag: "Missing"; readonly expectedStep: number; readonly checkpointDir: string }

/** The checkpoint a relaunch must continue from (or from a newer one). */
export interface ExpectedCheckpoint {
  readonly step: number
  readonly checkpointDir: string
}

/** A relaunch that started from step 0 while the job has a checkpoint at `expected.step`. */
export const detectMissingCheckpoint = (
  started: StartedEvent,
  expected: ExpectedCheckpoint | null
): CheckpointLoss | null =>
  expected !== null && started.resumedFromStep === null
    ? { _tag: "Missing", expectedStep: expected.step, checkpointDir: expected.checkpointDir }
    : null

const decodeResumedFrom = Schema.decodeUnknownOption(
  Schema.fromJsonString(Schema.Struct({ resumedFromStep: Schema.NullOr(Schema.Number) }))
)

/**
 * The attempts that started from step 0 on purpose (the first, or one allowed to start over): their `started` event
 * says `resumedFromStep: null`, and no loss was found in them.
 */
export const freshStarts = (events: ReadonlyArray<EventRecord>): ReadonlySet<string> => {
  const lost = new Set(events.filter((e) => e.kind === "checkpoint-loss").map((e) => e.attemptId))
  const fresh = events.filter((e) =>
    e.kind === "started" && !lost.has(e.attemptId) &&
    Option.match(decodeResumedFrom(e.payloadJson), { onNone: () => false, onSome: (p) => p.resumedFromStep === null })
  )
  return new Set(fresh.map((e) => e.attemptId))
}

/**
 * The newest checkpoint step the job's attempts reported durable since it last started from step 0 (`fresh`), in
 * attempt order; null when there is none to continue from.
 */
export const expectedCheckpointStep = (attempts: ReadonlyArray<AttemptRecord>, fresh: ReadonlySet<string>): number | null => {
  let expected: number | null = null
  for (const attempt of [...attempts].sort((a, b) => a.sequence - b.sequence)) {
    if (fresh.has(attempt.id)) expected = null
    if (attempt.lastCheckpointStep !== null) expected = Math.max(expected ?? 0, attempt.lastCheckpointStep)
  }
  return expected
}

/** Why the job stopped, with each file and check, and the two ways on. */
export const checkpointLossDetail = (loss: CheckpointLoss, jobId: string): string => {
  const startOver = `start over from step 0 with frugal run --resume ${jobId} --from-scratch`
  if (loss._tag === "Missing") {
    return [
      `checkpoint lost: the job reported a checkpoint at step ${loss.expectedStep} durable, but the relaunched command found none in ` +
      `${loss.checkpointDir} and started from step 0; it was stopped before training.`,
      `Restore the checkpoints there and run frugal run --resume ${jobId} again, or ${startOver}.`
    ].join("\n")
  }
  const event = loss.event
  return [
    `checkpoint lost: no valid checkpoint in ${event.checkpointDir}; every one failed verification:`,
    ...event.rejected.map((r) => `  ${r.path} (step ${r.step}): ${r.reason}`),
    `Nothing was trained. Restore the files and run frugal run --resume ${jobId} again, or ${startOver} ` +
    "(the invalid files are moved to an invalid-<time> folder beside them)."
  ].join("\n")
}
