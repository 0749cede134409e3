/**
 * The supervisor: launch → watch → on interruption or crash, record the attempt, ask the placement policy
 * where to go next, relaunch (the command resumes from its newest checkpoint), until the job completes or
 * its retry budget is spent. Every fact goes to the ledger as it happens, so a supervisor killed outright
 * and started again on the same job id continues where the ledger and the checkpoint directory say the job
 * is: attempts it left open are stopped if still running and closed as `lost`, charged to when last seen.
 */
import { Clock, Context, Effect, Layer, Option, Schedule, Schema, Stream } from "effect"
import type { TrainerEvent } from "@frugal/trainer"
import { type AttemptExit, describeExit } from "./AttemptExit.ts"
import { steadyStateTokensPerSecond } from "./Calibration.ts"
import { checkpointIntervalSeconds, DEFAULT_CHECKPOINT_WRITE_SECONDS } from "./CheckpointInterval.ts"
import { decodeJobSpec, encodeJobSpec, type JobSpec } from "./JobSpec.ts"
import { Ledger, type LedgerError } from "./Ledger.ts"
import type { AttemptRecord } from "./LedgerRecords.ts"
import { type NextPlacement, samePlacement } from "./NextPlacement.ts"
import type { Placement } from "./Placement.ts"
import { type AttemptHandle, Runner, type RunnerError } from "./Runner.ts"
import { join } from "node:path"

export class JobNotFound extends Schema.TaggedError<JobNotFound>()("JobNotFound", {
  jobId: Schema.String
}) {
  override get message(): string {
    return `no job ${this.jobId} in the ledger (frugal status lists the jobs)`
  }
}

export class JobSpecUnreadable extends Schema.TaggedError<JobSpecUnreadable>()("JobSpecUnreadable", {
  jobId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `job ${this.jobId}: the ledger's copy of its spec cannot be read: ${this.detail}`
  }
}

export interface JobOutcome {
  readonly jobId: string
  readonly status: "completed" | "failed"
  /** Why a job failed (the budget it exhausted, the policy's stop); null when completed. */
  readonly detail: string | null
  readonly finalStep: number | null
  readonly weightsSha256: string | null
  readonly attempts: ReadonlyArray<AttemptRecord>
  readonly costUsd: number
}

export interface SuperviseOptions {
  /** Where to relaunch after an early end (default: the same placement). */
  readonly nextPlacement?: NextPlacement
  /** Called for every protocol event as it arrives (progress display). */
  readonly onEvent?: (attempt: AttemptRecord, event: TrainerEvent) => Effect.Effect<void>
  /** Called when an attempt ends. */
  readonly onAttemptEnd?: (attempt: AttemptRecord) => Effect.Effect<void>
  /** Where attempt logs go; default `<checkpointDir>/../logs`. */
  readonly logDirectory?: string
  /** Minimum seconds between two `step` events kept in the ledger (all other events are kept). Default 10. */
  readonly progressEverySeconds?: number
  /** Seconds between heartbeats, which bound the cost lost with a supervisor. Default 15. */
  readonly heartbeatSeconds?: number
  /** Grace given to an orphan found still running on restart. Default: the engine's. */
  readonly orphanGraceSeconds?: number
}

type SuperviseError = LedgerError | RunnerError | JobNotFound | JobSpecUnreadable

export class Supervisor extends Context.Service<Supervisor, {
  /** Runs a job to the end: creates it in the ledger, or continues it when the id is already there. */
  readonly run: (jobId: string, spec: JobSpec, options?: SuperviseOptions) => Effect.Effect<JobOutcome, SuperviseError>
  /** Continues a job from the ledger alone (`frugal run --resume JOB`). */
  readonly resume: (jobId: string, options?: SuperviseOptions) => Effect.Effect<JobOutcome, SuperviseError>
}>()("@frugal/runner/Supervisor") {
  static readonly layer: Layer.Layer<Supervisor, never, Runner | Ledger> = Layer.effect(
    Supervisor,
    Effect.gen(function*() {
      const runner = yield* Runner
      const ledger = yield* Ledger
      const run = (jobId: string, spec: JobSpec, options: SuperviseOptions = {}) =>
        supervise(runner, ledger, jobId, spec, options)
      const resume = (jobId: string, options: SuperviseOptions = {}) =>
        Effect.gen(function*() {
          const job = yield* ledger.job(jobId)
          if (job === undefined) return yield* new JobNotFound({ jobId })
          const spec = yield* decodeJobSpec(job.specJson).pipe(
            Effect.mapError((error) => new JobSpecUnreadable({ jobId, detail: error.message }))
          )
          return yield* supervise(runner, ledger, jobId, spec, options)
        })
      return Supervisor.of({ run, resume })
    })
  )
}

const decodeBlockingSeconds = Schema.decodeUnknownOption(
  Schema.fromJsonString(Schema.Struct({ blockingSeconds: Schema.Number }))
)

const outcomeOf = (
  jobId: string,
  status: "completed" | "failed",
  detail: string | null,
  finalStep: number | null,
  weightsSha256: string | null,
  attempts: ReadonlyArray<AttemptRecord>
): JobOutcome => ({
  jobId,
  status,
  detail,
  finalStep,
  weightsSha256,
  attempts,
  costUsd: attempts.reduce((sum, attempt) => sum + attempt.costUsd, 0)
})

/** What one attempt's event stream told us. */
interface AttemptReport {
  readonly completed: Extract<TrainerEvent, { event: "completed" }> | null
  readonly started: Extract<TrainerEvent, { event: "started" }> | null
  readonly checkpointBlockingSeconds: ReadonlyArray<number>
  readonly tokensPerSecond: ReadonlyArray<number>
}

const supervise = (
  runner: Runner["Service"],
  ledger: Ledger["Service"],
  jobId: string,
  spec: JobSpec,
  options: SuperviseOptions
): Effect.Effect<JobOutcome, SuperviseError> =>
  Effect.gen(function*() {
    const nextPlacement = options.nextPlacement ?? samePlacement
    const existing = yield* ledger.job(jobId)
    if (existing === undefined) {
      yield* ledger.createJob({ id: jobId, name: spec.name, runner: runner.name, specJson: encodeJobSpec(spec) })
    } else {
      if (existing.status === "completed") {
        const attempts = yield* ledger.attempts(jobId)
        return outcomeOf(jobId, "completed", null, existing.finalStep, existing.weightsSha256, attempts)
      }
      // A previous supervisor of this job died: stop what it left running, then close those attempts.
      for (const attempt of yield* ledger.attempts(jobId)) {
        if (attempt.endedAtMillis !== null) continue
        yield* runner.stopOrphan(
          { attemptId: attempt.id, externalId: attempt.externalId, pid: attempt.pid },
          options.orphanGraceSeconds === undefined ? undefined : { graceSeconds: options.orphanGraceSeconds }
        )
      }
      yield* ledger.closeOpenAttempts(jobId, "its supervisor stopped; closed when the job was resumed")
    }

    const previous = yield* ledger.attempts(jobId)
    let placement: Placement = previous.at(-1)?.placement ?? spec.placement
    let interruptions = previous.filter((a) => a.exitReason === "interrupted" || a.exitReason === "lost").length
    let crashes = previous.filter((a) => a.exitReason === "crashed").length
    const measuredWrites = (yield* ledger.events(jobId, ["checkpoint"])).flatMap((event) =>
      Option.toArray(decodeBlockingSeconds(event.payloadJson)).map((checkpoint) => checkpoint.blockingSeconds)
    )
    let writeSeconds = measuredWrites.length > 0 ? Math.max(...measuredWrites) : DEFAULT_CHECKPOINT_WRITE_SECONDS
    const logDirectory = options.logDirectory ?? join(spec.launch.checkpointDir, "..", "logs")

    while (true) {
      const sequence = (yield* ledger.attempts(jobId)).length + 1
      const attemptId = `${jobId}-${sequence}`
      const interval = spec.checkpointEverySeconds ?? checkpointIntervalSeconds(placement, writeSeconds)
      const attempt = yield* ledger.startAttempt({
        id: attemptId,
        jobId,
        runner: runner.name,
        placement,
        checkpointEverySeconds: interval
      })
      const launched: { handle: AttemptHandle | null } = { handle: null }
      const { exit, report } = yield* runAttempt(runner, ledger, attempt, spec, interval, logDirectory, options, launched)
        .pipe(
          // Stopped from outside (Ctrl-C): closing the attempt's scope stopped the command; record how it ended.
          Effect.onInterrupt(() =>
            Effect.ignore(Effect.gen(function*() {
              const stoppedExit: AttemptExit = launched.handle === null
                ? { _tag: "Interrupted", resumable: false }
                : yield* launched.handle.exit
              yield* ledger.finishAttempt(attemptId, stoppedExit)
              yield* ledger.setJobStatus(jobId, "cancelled", { detail: "supervisor stopped; continue with --resume" })
            }))
          )
        )
      const ended = yield* ledger.finishAttempt(attemptId, exit)
      if (options.onAttemptEnd !== undefined) yield* options.onAttemptEnd(ended)
      if (report.checkpointBlockingSeconds.length > 0) writeSeconds = Math.max(...report.checkpointBlockingSeconds)

      if (exit._tag === "Completed") {
        const completed = report.completed
        yield* recordCalibration(ledger, jobId, placement, spec, report)
        yield* ledger.setJobStatus(jobId, "completed", {
          finalStep: completed?.step ?? ended.lastStep,
          weightsSha256: completed?.weightsSha256 ?? null,
          detail: completed === null ? "exited 0 without a completed event" : null
        })
        return outcomeOf(
          jobId,
          "completed",
          null,
          completed?.step ?? ended.lastStep,
          completed?.weightsSha256 ?? null,
          yield* ledger.attempts(jobId)
        )
      }

      if (exit._tag === "Crashed") crashes += 1
      else interruptions += 1
      const exhausted = crashes > spec.retry.maxCrashes
        ? `${crashes} crashes, more than the budget of ${spec.retry.maxCrashes}`
        : interruptions > spec.retry.maxInterruptions
        ? `${interruptions} interruptions, more than the budget of ${spec.retry.maxInterruptions}`
        : null
      const attempts = yield* ledger.attempts(jobId)
      const next = exhausted === null
        ? yield* nextPlacement({
          jobId,
          current: placement,
          lastExit: exit,
          attempts,
          lastCheckpointStep: attempts.reduce<number | null>(
            (step, a) => (a.lastCheckpointStep === null ? step : Math.max(step ?? 0, a.lastCheckpointStep)),
            null
          ),
          nowMillis: yield* Clock.currentTimeMillis
        })
        : null
      if (next === null) {
        const detail = `stopped after attempt ${sequence} ${describeExit(exit)}: ${
          exhausted ?? "the placement policy chose to stop"
        }`
        yield* ledger.setJobStatus(jobId, "failed", { detail })
        return outcomeOf(jobId, "failed", detail, ended.lastStep, null, attempts)
      }
      placement = next
    }
  })

const runAttempt = (
  runner: Runner["Service"],
  ledger: Ledger["Service"],
  attempt: AttemptRecord,
  spec: JobSpec,
  checkpointEverySeconds: number | null,
  logDirectory: string,
  options: SuperviseOptions,
  launched: { handle: AttemptHandle | null }
): Effect.Effect<{ readonly exit: AttemptExit; readonly report: AttemptReport }, LedgerError | RunnerError> =>
  Effect.scoped(Effect.gen(function*() {
    const handle = yield* runner.submit({
      jobId: attempt.jobId,
      attemptId: attempt.id,
      placement: attempt.placement,
      launch: spec.launch,
      checkpointEverySeconds,
      logPath: join(logDirectory, `${attempt.id}.log`)
    })
    launched.handle = handle
    yield* ledger.attachProcess(attempt.id, { externalId: handle.externalId, pid: handle.pid, logPath: handle.logPath })
    yield* ledger.touchAttempt(attempt.id).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(`${options.heartbeatSeconds ?? 15} seconds`)),
      Effect.forkScoped
    )

    const progressEveryMillis = (options.progressEverySeconds ?? 10) * 1000
    let lastProgressMillis = Number.NEGATIVE_INFINITY
    let started: AttemptReport["started"] = null
    let completed: AttemptReport["completed"] = null
    const checkpointBlockingSeconds: Array<number> = []
    const tokensPerSecond: Array<number> = []

    yield* Stream.runForEach(handle.events, (event) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        if (event.event === "step") {
          tokensPerSecond.push(event.tokensPerSecond)
          if (now - lastProgressMillis < progressEveryMillis) {
            yield* ledger.touchAttempt(attempt.id, event.step)
          } else {
            lastProgressMillis = now
            yield* ledger.recordEvent(attempt.id, { kind: event.event, step: event.step, payload: event })
          }
        } else {
          if (event.event === "started") started = event
          if (event.event === "completed") completed = event
          if (event.event === "checkpoint") checkpointBlockingSeconds.push(event.blockingSeconds)
          yield* ledger.recordEvent(attempt.id, { kind: event.event, step: event.step, payload: event })
        }
        if (options.onEvent !== undefined) yield* options.onEvent(attempt, event)
      }))
    const exit = yield* handle.exit
    return { exit, report: { started, completed, checkpointBlockingSeconds, tokensPerSecond } }
  }))

/** Files the run's steady-state throughput under its accelerator and precision, for the planner. */
const recordCalibration = (
  ledger: Ledger["Service"],
  jobId: string,
  placement: Placement,
  spec: JobSpec,
  report: AttemptReport
): Effect.Effect<void, LedgerError> =>
  Effect.gen(function*() {
    const gpus = Math.max(1, placement.acceleratorsPerInstance * placement.instanceCount)
    const tokensPerSecond = report.completed?.tokensPerSecond ?? steadyStateTokensPerSecond(report.tokensPerSecond)
    const precision = report.completed?.precision ?? report.started?.precision ?? spec.precision
    if (tokensPerSecond === null || tokensPerSecond === undefined || precision === null) return
    yield* ledger.recordCalibration({
      jobId,
      accelerator: placement.accelerator ?? "cpu",
      precision,
      tokensPerSecondPerGpu: tokensPerSecond / gpus,
      mfu: report.completed?.mfu ?? null,
      steps: report.tokensPerSecond.length,
      measuredAtMillis: yield* Clock.currentTimeMillis
    })
  })
