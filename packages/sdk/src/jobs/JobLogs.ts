/**
 * `frugal logs` / `Frugal.logs`: what each attempt of a job did. Per attempt: the trainer's events the ledger
 * recorded (started, progress, checkpoints, interruption, completion, and the supervisor's placement decisions),
 * as lines of text, then the lines of the attempt's log file (stderr and non-protocol stdout, and what the engine
 * wrote there). The reference trainer writes its progress only as protocol events, so without the first part an
 * attempt that ran well had an empty log.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { InvalidInput } from "@frugal/core"
import { type AttemptRecord, type EventRecord, JobNotFound, Ledger, type LedgerError, LocalRunner, Runner, type RunnerError } from "@frugal/runner"
import { decodeEventLine } from "@frugal/trainer"
import type { Environment } from "../Catalogs.ts"
import { trainerEventText } from "./EventText.ts"
import { ledgerLayer } from "./RunJob.ts"

export interface AttemptLogEvent {
  /** ISO time the supervisor recorded it. */
  readonly time: string
  readonly kind: string
  readonly step: number | null
  readonly text: string
}

export interface AttemptLog {
  readonly sequence: number
  readonly id: string
  readonly outcome: AttemptRecord["outcome"]
  /** How it ended, in words; null while it runs. */
  readonly exitDetail: string | null
  readonly logPath: string | null
  readonly events: ReadonlyArray<AttemptLogEvent>
  /** The log file's lines, oldest first; empty when there is no file (yet). */
  readonly lines: ReadonlyArray<string>
}

/** What `frugal logs JOB --json` prints. */
export interface JobLogsReport {
  readonly job: string
  readonly attempts: ReadonlyArray<AttemptLog>
}

export interface LogsRequest {
  /** Only this attempt (1, 2, …). */
  readonly attempt?: number | undefined
}

const decisionText = (payload: unknown): string => {
  if (typeof payload !== "object" || payload === null) return "placement decision"
  const choice = "choice" in payload && typeof payload.choice === "string" ? payload.choice : "decision"
  const why = "why" in payload && typeof payload.why === "string" ? payload.why : ""
  return `next: ${choice}${why === "" ? "" : `: ${why}`}`
}

/** One recorded event as a line: trainer events in `frugal run`'s words, the supervisor's decisions by what they chose. */
export const eventLine = (record: EventRecord, maxSteps: number | null): string => {
  const event = decodeEventLine(record.payloadJson)
  if (event !== null) return trainerEventText(event, { maxSteps })
  if (record.kind === "placement") {
    try {
      return decisionText(JSON.parse(record.payloadJson))
    } catch {
      return record.kind
    }
  }
  return `${record.kind}${record.step === null ? "" : ` at step ${record.step}`}`
}

const attemptEvents = (events: ReadonlyArray<EventRecord>, attemptId: string): ReadonlyArray<AttemptLogEvent> => {
  let maxSteps: number | null = null
  return events.filter((event) => event.attemptId === attemptId).map((record) => {
    const event = decodeEventLine(record.payloadJson)
    if (event?.event === "started") maxSteps = event.maxSteps ?? maxSteps
    return { time: new Date(record.timeMillis).toISOString(), kind: record.kind, step: record.step, text: eventLine(record, maxSteps) }
  })
}

/** The job's attempts (or one of them) with their events and log lines. */
export const jobLogs = Effect.fn("Frugal.logs")(function*(
  jobId: string,
  request: LogsRequest = {}
): Effect.fn.Return<JobLogsReport, JobNotFound | InvalidInput | LedgerError | RunnerError, Ledger | Runner> {
  const ledger = yield* Ledger
  const runner = yield* Runner
  if ((yield* ledger.job(jobId)) === undefined) return yield* new JobNotFound({ jobId })
  const attempts = (yield* ledger.attempts(jobId)).filter((a) => request.attempt === undefined || a.sequence === request.attempt)
  if (attempts.length === 0 && request.attempt !== undefined) {
    return yield* new InvalidInput({
      source: "attempt",
      issues: [{ path: "attempt", expected: "an attempt number of this job", actual: String(request.attempt) }]
    })
  }
  const events = yield* ledger.events(jobId)
  const logs = yield* Effect.forEach(attempts, (attempt) =>
    Effect.map(
      Stream.runCollect(runner.logs({ attemptId: attempt.id, logPath: attempt.logPath })),
      (lines): AttemptLog => ({
        sequence: attempt.sequence,
        id: attempt.id,
        outcome: attempt.outcome,
        exitDetail: attempt.exitDetail,
        logPath: attempt.logPath,
        events: attemptEvents(events, attempt.id),
        lines: [...lines]
      })
    ))
  return { job: jobId, attempts: logs }
})

/**
 * What `jobLogs` reads through: the ledger of `env`, and the log files the engines keep under the job's directory
 * (every engine writes its attempt's log to the file the ledger names, so the local reader serves them all).
 */
export const logsLayer = (env: Environment): Layer.Layer<Ledger | Runner, LedgerError> => Layer.merge(ledgerLayer(env), LocalRunner.layer)
