/**
 * The supervisor: launch → watch → on interruption, crash or a failed launch, record the attempt, choose where the
 * next one runs, relaunch (the command resumes from its newest checkpoint), until the job completes, its retry
 * budget is spent or nothing can meet its deadline. Each attempt goes to the engine its placement names.
 *
 * Where the next attempt runs: with a job policy (the plan's ranked placements and a spot policy, kept in the ledger
 * with the job; see LaunchPolicy) the policy decides; without one the job stays where it is.
 *
 * One supervisor per job: it takes the job's lease in the ledger first (a second one is refused with the holder named,
 * JobLease.ts), renews it with its heartbeat and releases it at the end.
 *
 * A job keeps the workload it was created from: another workload may not continue it (WorkloadIdentity.ts).
 *
 * When the checkpoints the job wrote are gone or all invalid, the job stops and says which, rather than training
 * again from step 0, unless told `fromScratch` (CheckpointLoss.ts).
 *
 * Every fact goes to the ledger as it happens, so a supervisor killed outright and started again on the same job id
 * continues where the ledger and the checkpoints say the job is: an attempt it left running is adopted when its
 * engine can follow it again (an EC2 instance, a Slurm job, a Kubernetes Job), else stopped and closed as `lost`,
 * charged to when it was last seen.
 */
import { Clock, Context, Effect, Layer, Option, Schedule, Schema, type Scope, Stream } from "effect"
import { EXIT_CHECKPOINTS_INVALID, eventStep, type TrainerEvent } from "@frugal/trainer"
import { interRegionTransferUsdPerGB } from "@frugal/planner"
import { type AttemptExit, describeExit } from "./AttemptExit.ts"
import { steadyStateTokensPerSecond } from "./Calibration.ts"
import { checkpointIntervalSeconds, DEFAULT_CHECKPOINT_WRITE_SECONDS } from "./CheckpointInterval.ts"
import { Engines, type EngineUnavailable } from "./Engine.ts"
import {
  type CheckpointLoss,
  checkpointLossDetail,
  detectMissingCheckpoint,
  type ExpectedCheckpoint,
  expectedCheckpointStep,
  freshStarts
} from "./CheckpointLoss.ts"
import { type JobLeased, type LeaseLost, leaseSecondsFor } from "./JobLease.ts"
import { type HeldLease, holdJobLease } from "./JobLeaseKeeper.ts"
import { decodeJobSpec, encodeJobSpec, type JobSpec } from "./JobSpec.ts"
import { attemptHorizon, type ChoiceContext, chooseNext, decodeJobPolicy, encodeJobPolicy, type JobPolicy, type LaunchChoice } from "./LaunchPolicy.ts"
import { Ledger, type LedgerError } from "./Ledger.ts"
import type { AttemptRecord } from "./LedgerRecords.ts"
import { describePlacement, type EngineName, type Placement, poolKey } from "./Placement.ts"
import { type AttemptHandle, type AttemptHorizon, type AttemptRequest, type ProvisioningFailed, Runner, type RunnerError } from "./Runner.ts"
import { runsUnderTorchrun, torchrunAttemptExit } from "./Torchrun.ts"
import { type WorkloadIdentity, workloadDifferences, WorkloadMismatch } from "./WorkloadIdentity.ts"
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
  /** Why a job failed (the budget it exhausted, the deadline no placement can meet); null when completed. */
  readonly detail: string | null
  readonly finalStep: number | null
  readonly weightsSha256: string | null
  readonly attempts: ReadonlyArray<AttemptRecord>
  readonly costUsd: number
}

export interface SuperviseOptions {
  /** The placement policy of a new job (kept in the ledger with it); a resumed job keeps its own. */
  readonly policy?: JobPolicy | null
  /** Called for every protocol event as it arrives (progress display). */
  readonly onEvent?: (attempt: AttemptRecord, event: TrainerEvent) => Effect.Effect<void>
  /** Called when an attempt ends. */
  readonly onAttemptEnd?: (attempt: AttemptRecord) => Effect.Effect<void>
  /** Called with every placement decision after the first launch: a relaunch, a wait, the stop. */
  readonly onDecision?: (choice: LaunchChoice) => Effect.Effect<void>
  /** Called when an attempt left running by a dead supervisor is taken over instead of relaunched. */
  readonly onAdopt?: (attempt: AttemptRecord) => Effect.Effect<void>
  /** Where attempt logs go; default `<checkpointDir>/../logs`. */
  readonly logDirectory?: string
  /** Minimum seconds between two `step` events kept in the ledger (all other events are kept). Default 10. */
  readonly progressEverySeconds?: number
  /** Seconds between heartbeats, which bound the cost lost with a supervisor. Default 15. */
  readonly heartbeatSeconds?: number
  /** Grace given to an orphan found still running on restart. Default: the engine's. */
  readonly orphanGraceSeconds?: number
  /** The workload the job is made from: kept with a new job; a different one may not continue an existing job. */
  readonly workload?: WorkloadIdentity
  /**
   * When no valid checkpoint remains, start over from step 0 (the trainer sets the invalid ones aside) instead of
   * stopping the job with the files and checks that failed.
   */
  readonly fromScratch?: boolean
  /** What holds the job's lease, as another process's refusal names it. Default `frugal supervisor`. */
  readonly leaseLabel?: string
  /** Called once the job's lease is held, with the lease it replaced (expired, or its holder gone) if any. */
  readonly onLease?: (held: HeldLease) => Effect.Effect<void>
}

/** What a supervision can fail with (besides the job failing, which is an outcome). */
export type SuperviseError =
  | LedgerError
  | RunnerError
  | EngineUnavailable
  | JobNotFound
  | JobSpecUnreadable
  | JobLeased
  | LeaseLost
  | WorkloadMismatch

export class Supervisor extends Context.Service<Supervisor, {
  /** Runs a job to the end: creates it in the ledger, or continues it when the id is already there. */
  readonly run: (jobId: string, spec: JobSpec, options?: SuperviseOptions) => Effect.Effect<JobOutcome, SuperviseError>
  /** Continues a job from the ledger alone (`frugal run --resume JOB`). */
  readonly resume: (jobId: string, options?: SuperviseOptions) => Effect.Effect<JobOutcome, SuperviseError>
}>()("@frugal/runner/Supervisor") {
  static readonly layer: Layer.Layer<Supervisor, never, Engines | Ledger> = Layer.effect(
    Supervisor,
    Effect.gen(function*() {
      const engines = yield* Engines
      const ledger = yield* Ledger
      const run = (jobId: string, spec: JobSpec, options: SuperviseOptions = {}) =>
        supervise(engines, ledger, jobId, spec, options)
      const resume = (jobId: string, options: SuperviseOptions = {}) =>
        Effect.gen(function*() {
          const job = yield* ledger.job(jobId)
          if (job === undefined) return yield* new JobNotFound({ jobId })
          const spec = yield* decodeJobSpec(job.specJson).pipe(
            Effect.mapError((error) => new JobSpecUnreadable({ jobId, detail: error.message }))
          )
          return yield* supervise(engines, ledger, jobId, spec, options)
        })
      return Supervisor.of({ run, resume })
    })
  )

  /** A supervisor whose every attempt runs on the one `Runner` provided. */
  static readonly layerWithRunner: Layer.Layer<Supervisor, never, Runner | Ledger> = Supervisor.layer.pipe(
    Layer.provide(Engines.fromRunner)
  )
}

const decodeBlockingSeconds = Schema.decodeUnknownOption(
  Schema.fromJsonString(Schema.Struct({ blockingSeconds: Schema.Number, bytes: Schema.optionalKey(Schema.Number) }))
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
  readonly checkpointBytes: ReadonlyArray<number>
  readonly tokensPerSecond: ReadonlyArray<number>
  /** The job's checkpoints were found all invalid, or missing, as the attempt started: the job stops. */
  readonly checkpointLoss: CheckpointLoss | null
}

/** The exit an ended attempt recorded, as the placement choice reads it. */
const recordedExit = (attempt: AttemptRecord): AttemptExit => {
  switch (attempt.exitReason) {
    case "completed":
      return { _tag: "Completed" }
    case "crashed":
      return { _tag: "Crashed", code: attempt.exitCode, signal: null }
    case "provision-failed":
      return { _tag: "ProvisionFailed", code: attempt.reason ?? "unknown", detail: attempt.exitDetail ?? "", scope: attempt.coolDownScope ?? "pool" }
    case "interrupted":
      return { _tag: "Interrupted", resumable: attempt.exitCode === 75, ...(attempt.reason === null ? {} : { reason: attempt.reason }) }
    default:
      return { _tag: "Lost", detail: attempt.exitDetail ?? "lost" }
  }
}

/** The newest step a checkpoint made safe, over all attempts. */
const lastCheckpointStep = (attempts: ReadonlyArray<AttemptRecord>): number | null =>
  attempts.reduce<number | null>(
    (step, a) => (a.lastCheckpointStep === null ? step : Math.max(step ?? 0, a.lastCheckpointStep)),
    null
  )

/** What is next: a fresh launch, or an attempt a dead supervisor left running that this one follows to its end. */
type Next =
  | { readonly _tag: "Launch"; readonly placement: Placement }
  | { readonly _tag: "Adopted"; readonly attempt: AttemptRecord; readonly handle: AttemptHandle }

const supervise = (
  engines: Engines["Service"],
  ledger: Ledger["Service"],
  jobId: string,
  spec: JobSpec,
  options: SuperviseOptions
): Effect.Effect<JobOutcome, SuperviseError> =>
  // The lease is held for the whole supervision; losing it stops the work (and its attempt) at once.
  Effect.scoped(Effect.gen(function*() {
    const heartbeatSeconds = options.heartbeatSeconds ?? 15
    const held = yield* holdJobLease(ledger, jobId, {
      label: options.leaseLabel ?? "frugal supervisor",
      renewEveryMillis: heartbeatSeconds * 1000,
      ttlMillis: leaseSecondsFor(heartbeatSeconds) * 1000
    })
    if (options.onLease !== undefined) yield* options.onLease(held)
    // Stopped from outside between attempts (while the policy waits out a cool-down, say): the attempt's own
    // handler did not run, so the job is marked cancelled here, if it is still this supervisor's and still running.
    const cancelled = Effect.ignore(Effect.gen(function*() {
      if (!(yield* held.holding)) return
      if ((yield* ledger.job(jobId))?.status !== "running") return
      yield* ledger.setJobStatus(jobId, "cancelled", { detail: "cancelled; continue with frugal run --resume" })
    }))
    return yield* Effect.raceFirst(superviseLeased(engines, ledger, jobId, spec, options, held), held.lost).pipe(
      Effect.onInterrupt(() => cancelled)
    )
  }))

const superviseLeased = (
  engines: Engines["Service"],
  ledger: Ledger["Service"],
  jobId: string,
  spec: JobSpec,
  options: SuperviseOptions,
  held: HeldLease
): Effect.Effect<JobOutcome, SuperviseError> =>
  // Scoped: an adopted attempt's handle lives as long as the job's supervision.
  Effect.scoped(Effect.gen(function*() {
    const existing = yield* ledger.job(jobId)
    const given = options.workload
    if (existing !== undefined && given !== undefined && existing.workloadJson !== null && existing.workloadSha256 !== given.sha256) {
      return yield* new WorkloadMismatch({ jobId, differences: workloadDifferences(existing.workloadJson, given.json) })
    }
    const defaultEngine: EngineName = spec.placement.runner ?? "local"
    const engineOf = (placement: Placement): EngineName => placement.runner ?? defaultEngine
    const logDirectory = options.logDirectory ?? join(spec.launch.checkpointDir, "..", "logs")
    const launch = options.fromScratch === true ? { ...spec.launch, env: { ...spec.launch.env, FRUGAL_FROM_SCRATCH: "1" } } : spec.launch
    const request = (attemptId: string, placement: Placement, interval: number | null, horizon?: AttemptHorizon | null): AttemptRequest => ({
      jobId,
      attemptId,
      placement,
      launch,
      checkpointEverySeconds: interval,
      logPath: join(logDirectory, `${attemptId}.log`),
      ...(horizon === undefined || horizon === null ? {} : { horizon })
    })

    let policy: JobPolicy | null = options.policy ?? null
    let next: Next | null = null
    if (existing === undefined) {
      yield* ledger.createJob({
        id: jobId,
        name: spec.name,
        runner: defaultEngine,
        specJson: encodeJobSpec(spec),
        policyJson: policy === null ? null : encodeJobPolicy(policy),
        workload: given ?? null
      })
    } else {
      if (existing.status === "completed") {
        const attempts = yield* ledger.attempts(jobId)
        return outcomeOf(jobId, "completed", null, existing.finalStep, existing.weightsSha256, attempts)
      }
      if (existing.policyJson !== null) {
        policy = yield* decodeJobPolicy(existing.policyJson).pipe(
          Effect.mapError((error) => new JobSpecUnreadable({ jobId, detail: `its placement policy: ${error.message}` }))
        )
      }
      // A previous supervisor of this job died: follow again what it left running where the engine can, stop the rest.
      for (const attempt of yield* ledger.attempts(jobId)) {
        if (attempt.endedAtMillis !== null) continue
        const runner = yield* engines.runner(engineOf(attempt.placement))
        const orphan = { attemptId: attempt.id, externalId: attempt.externalId, pid: attempt.pid, placement: attempt.placement }
        if (next === null && runner.adopt !== undefined && attempt.externalId !== null) {
          const handle = yield* runner.adopt(orphan, request(attempt.id, attempt.placement, attempt.checkpointEverySeconds))
          if (handle !== null) {
            next = { _tag: "Adopted", attempt, handle }
            if (options.onAdopt !== undefined) yield* options.onAdopt(attempt)
            continue
          }
        }
        const stopped = yield* runner.stopOrphan(orphan, options.orphanGraceSeconds === undefined ? undefined : { graceSeconds: options.orphanGraceSeconds })
        // It ran until now: charged to the moment it stopped, not to when its dead supervisor last saw it.
        if (stopped) yield* ledger.touchAttempt(attempt.id)
      }
      if (next === null) yield* ledger.closeOpenAttempts(jobId, "its supervisor stopped; closed when the job was resumed")
    }

    const previous = yield* ledger.attempts(jobId)
    const firstPlacement = policy?.placements[0].placement ?? spec.placement
    if (next === null) {
      const last = previous.at(-1)
      if (last === undefined) next = { _tag: "Launch", placement: firstPlacement }
      else if (last.exitReason === "cancelled") next = { _tag: "Launch", placement: last.placement }
      else {
        const decided = yield* decide(last, recordedExit(last))
        if (decided._tag === "Stop") return yield* fail(decided.reason, previous)
        next = { _tag: "Launch", placement: decided.placement }
      }
    }

    let interruptions = previous.filter((a) => a.exitReason === "interrupted" || a.exitReason === "lost").length
    let crashes = previous.filter((a) => a.exitReason === "crashed").length
    let provisionFailures = previous.filter((a) => a.exitReason === "provision-failed").length
    const measuredWrites = (yield* ledger.events(jobId, ["checkpoint"])).flatMap((event) =>
      Option.toArray(decodeBlockingSeconds(event.payloadJson))
    )
    const measuredSeconds = measuredWrites.map((w) => w.blockingSeconds).filter((seconds) => seconds > 0)
    let writeSeconds = measuredSeconds.length > 0 ? Math.max(...measuredSeconds) : DEFAULT_CHECKPOINT_WRITE_SECONDS
    let checkpointGB = Math.max(0, ...measuredWrites.map((w) => (w.bytes ?? 0) / 1e9)) || (policy?.checkpointGB ?? 0)

    /** The newest checkpoint the job reported durable since it last started from step 0, which a relaunch must find. */
    const expectedCheckpoint: Effect.Effect<ExpectedCheckpoint | null, LedgerError> = Effect.map(
      Effect.zip(ledger.attempts(jobId), ledger.events(jobId, ["started", "checkpoint-loss"])),
      ([attempts, events]) => {
        const step = expectedCheckpointStep(attempts, freshStarts(events))
        return step === null ? null : { step, checkpointDir: spec.launch.checkpointDir }
      }
    )

    while (true) {
      const current: Next = next
      let attempt: AttemptRecord
      let launch: Effect.Effect<AttemptHandle, RunnerError | ProvisioningFailed | EngineUnavailable, Scope.Scope>
      if (current._tag === "Adopted") {
        attempt = current.attempt
        launch = Effect.succeed(current.handle)
      } else {
        const placement = current.placement
        const sofar = yield* ledger.attempts(jobId)
        const attemptId = `${jobId}-${sofar.length + 1}`
        const interval = spec.checkpointEverySeconds ?? checkpointIntervalSeconds(placement, writeSeconds)
        // What this attempt needs at its placement, from the work the checkpoints leave (Slurm's --time).
        const horizon = policy === null ? null : attemptHorizon(policy, placement, sofar, lastCheckpointStep(sofar), yield* Clock.currentTimeMillis)
        attempt = yield* ledger.startAttempt({ id: attemptId, jobId, runner: engineOf(placement), placement, checkpointEverySeconds: interval })
        launch = Effect.flatMap(engines.runner(engineOf(placement)), (runner) => runner.submit(request(attemptId, placement, interval, horizon)))
      }
      const launched: { handle: AttemptHandle | null } = { handle: null }
      // An adopted attempt may replay its own `started` event: only a fresh launch is held to the job's checkpoints.
      let expected: ExpectedCheckpoint | null = null
      if (options.fromScratch !== true && current._tag === "Launch") expected = yield* expectedCheckpoint
      const { exit, report } = yield* runAttempt(ledger, attempt, launch, spec.launch, options, launched, expected).pipe(
        // Stopped from outside (Ctrl-C, `frugal cancel`): closing the attempt's scope stopped the command; the
        // attempt and the job are cancelled, and `--resume` continues where the checkpoints are. Without the lease
        // any more, the job is another supervisor's: nothing is written.
        Effect.onInterrupt(() =>
          Effect.ignore(Effect.gen(function*() {
            if (launched.handle !== null) yield* launched.handle.exit
            if (!(yield* held.holding)) return
            yield* ledger.finishAttempt(attempt.id, { _tag: "Cancelled" })
            yield* ledger.setJobStatus(jobId, "cancelled", { detail: "cancelled; continue with frugal run --resume" })
          }))
        ),
        // The engine refused the launch with an error that is not about capacity (a subnet that does not exist,
        // credentials): the attempt never ran and costs nothing, the job stops naming the error, and the error
        // goes on to the caller. An attempt that did start and then lost its engine stays open: --resume adopts it.
        Effect.tapError((error) =>
          launched.handle !== null ? Effect.void : Effect.ignore(Effect.gen(function*() {
            if (!(yield* held.holding)) return
            const detail = error.message
            yield* ledger.finishAttempt(attempt.id, { _tag: "ProvisionFailed", code: launchErrorCode(detail), detail, scope: "pool" })
            yield* fail(`attempt ${attempt.id} on ${describePlacement(attempt.placement)} could not be launched: ${detail}`, yield* ledger.attempts(jobId))
          }))
        )
      )
      // Checkpoints an engine learned of afterwards (EC2's result tags) carry no timing or size: keep what was measured.
      const measured = report.checkpointBlockingSeconds.filter((seconds) => seconds > 0)
      if (measured.length > 0) writeSeconds = Math.max(...measured)
      const sizes = report.checkpointBytes.filter((bytes) => bytes > 0)
      if (sizes.length > 0) checkpointGB = Math.max(...sizes) / 1e9
      const ended = yield* ledger.finishAttempt(attempt.id, exit, {
        transferCostUsd: transferCostUsd(policy, attempt.placement, checkpointGB, report, attempt.resumedFromStep)
      })
      if (options.onAttemptEnd !== undefined) yield* options.onAttemptEnd(ended)
      if (report.checkpointLoss !== null) {
        return yield* fail(checkpointLossDetail(report.checkpointLoss, jobId), yield* ledger.attempts(jobId))
      }
      // The same, told only by the exit code: engines that see no events (EC2 reports through tags) still stop here
      // instead of relaunching a command that will find the same invalid checkpoints.
      if (exit._tag === "Crashed" && exit.code === EXIT_CHECKPOINTS_INVALID) {
        return yield* fail(
          `checkpoint lost: attempt ${ended.sequence} found no valid checkpoint in ${spec.launch.checkpointDir} (exit ${EXIT_CHECKPOINTS_INVALID}); ` +
            `its log names each file. Restore them and run frugal run --resume ${jobId}, or start over with --from-scratch.`,
          yield* ledger.attempts(jobId)
        )
      }

      if (exit._tag === "Completed") {
        const completed = report.completed
        yield* recordCalibration(ledger, jobId, attempt.placement, spec, report)
        yield* ledger.setJobStatus(jobId, "completed", {
          finalStep: completed?.step ?? ended.lastStep,
          weightsSha256: completed?.weightsSha256 ?? null,
          detail: completed === null ? "exited 0 without a completed event" : null
        })
        return outcomeOf(jobId, "completed", null, completed?.step ?? ended.lastStep, completed?.weightsSha256 ?? null, yield* ledger.attempts(jobId))
      }

      if (exit._tag === "Crashed") crashes += 1
      else if (exit._tag === "ProvisionFailed") provisionFailures += 1
      else interruptions += 1
      const retry = spec.retry
      const maxProvisionFailures = retry.maxProvisionFailures ?? 100
      const exhausted = crashes > retry.maxCrashes
        ? `${crashes} crashes, more than the budget of ${retry.maxCrashes}`
        : interruptions > retry.maxInterruptions
        ? `${interruptions} interruptions, more than the budget of ${retry.maxInterruptions}`
        : provisionFailures > maxProvisionFailures
        ? `${provisionFailures} failed launches, more than the budget of ${maxProvisionFailures}`
        : null
      const attempts = yield* ledger.attempts(jobId)
      if (exhausted !== null) return yield* fail(`stopped after attempt ${ended.sequence} ${describeExit(exit)}: ${exhausted}`, attempts)
      const decided = yield* decide(ended, exit)
      if (decided._tag === "Stop") return yield* fail(`stopped after attempt ${ended.sequence} ${describeExit(exit)}: ${decided.reason}`, attempts)
      next = { _tag: "Launch", placement: decided.placement }
    }

    /** Where next after `last` ended with `exit`: the job's policy, or the same placement; waits as told. */
    function decide(last: AttemptRecord, exit: AttemptExit) {
      return Effect.gen(function*() {
        let waitedHours = 0
        for (let round = 0; round < 10_000; round++) {
          const attempts = yield* ledger.attempts(jobId)
          const context: ChoiceContext = {
            attempts,
            lastExit: exit,
            current: last.placement,
            lastCheckpointStep: lastCheckpointStep(attempts),
            nowMillis: yield* Clock.currentTimeMillis,
            waitedHours
          }
          const choice: LaunchChoice = policy === null ? stayPut(last, exit) : chooseNext(policy, context)
          yield* ledger.recordEvent(last.id, { kind: "placement", step: null, payload: choiceRecord(choice) })
          if (options.onDecision !== undefined) yield* options.onDecision(choice)
          if (choice._tag !== "Wait") return choice
          yield* Effect.sleep(Math.max(1, Math.round(choice.hours * 3_600_000)))
          waitedHours += choice.hours
        }
        return { _tag: "Stop", reason: "waited 10,000 times without a placement" } satisfies LaunchChoice
      })
    }

    function fail(detail: string, attempts: ReadonlyArray<AttemptRecord>) {
      return Effect.gen(function*() {
        yield* ledger.setJobStatus(jobId, "failed", { detail })
        return outcomeOf(jobId, "failed", detail, attempts.at(-1)?.lastStep ?? null, null, attempts)
      })
    }
  }))

/** The engine's error code at the head of its message (`InvalidSubnetID.NotFound: …`), or a generic one. */
const launchErrorCode = (detail: string): string =>
  /(?:^|: )([A-Z][A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)(?=:)/.exec(detail)?.[1] ?? "LaunchError"

/** Without a policy a job stays where it is; a failed launch there has nowhere else to go. */
const stayPut = (last: AttemptRecord, exit: AttemptExit): LaunchChoice =>
  exit._tag === "ProvisionFailed"
    ? { _tag: "Stop", reason: `${describePlacement(last.placement)} could not be launched (${exit.code}) and the job has no other placement (run it with --policy or --infra)` }
    : { _tag: "Launch", placement: last.placement, why: "relaunch where it ran" }

const choiceRecord = (choice: LaunchChoice) =>
  choice._tag === "Launch"
    ? { choice: "launch", why: choice.why, placement: choice.placement, pool: poolKey(choice.placement) }
    : choice._tag === "Wait"
    ? { choice: "wait", why: choice.why, hours: choice.hours }
    : { choice: "stop", why: choice.reason }

/**
 * Checkpoint data an attempt moved between the checkpoint store's region and its own: the checkpoint it resumed
 * from and every checkpoint it wrote, at the inter-region rate (docs/planner.md). Nothing for clusters and local runs.
 */
const transferCostUsd = (
  policy: JobPolicy | null,
  placement: Placement,
  checkpointGB: number,
  report: AttemptReport,
  resumedFromStep: number | null
): number => {
  const store = policy?.checkpointRegion ?? null
  if (store === null || placement.runner === "local" || placement.runner === "slurm" || placement.region === store) return 0
  const moves = report.checkpointBytes.length + (resumedFromStep !== null && resumedFromStep > 0 ? 1 : 0)
  // Reads leave the store's region, writes leave the attempt's: each is charged where the data leaves.
  const rate = Math.max(interRegionTransferUsdPerGB(store, placement.region), interRegionTransferUsdPerGB(placement.region, store))
  return moves * checkpointGB * rate
}

const runAttempt = (
  ledger: Ledger["Service"],
  attempt: AttemptRecord,
  launch: Effect.Effect<AttemptHandle, RunnerError | ProvisioningFailed | EngineUnavailable, Scope.Scope>,
  launchSpec: JobSpec["launch"],
  options: SuperviseOptions,
  launched: { handle: AttemptHandle | null },
  expected: ExpectedCheckpoint | null
): Effect.Effect<{ readonly exit: AttemptExit; readonly report: AttemptReport }, LedgerError | RunnerError | EngineUnavailable> =>
  Effect.scoped(Effect.gen(function*() {
    const empty: AttemptReport = {
      started: null,
      completed: null,
      checkpointBlockingSeconds: [],
      checkpointBytes: [],
      tokensPerSecond: [],
      checkpointLoss: null
    }
    const started = yield* Effect.result(launch)
    if (started._tag === "Failure") {
      const error = started.failure
      if (error._tag === "ProvisioningFailed") {
        return { exit: { _tag: "ProvisionFailed", code: error.code, detail: error.detail, scope: error.scope } as const, report: empty }
      }
      return yield* Effect.fail(error)
    }
    const handle = started.success
    launched.handle = handle
    yield* ledger.attachProcess(attempt.id, { externalId: handle.externalId, pid: handle.pid, logPath: handle.logPath })
    yield* ledger.touchAttempt(attempt.id).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(`${options.heartbeatSeconds ?? 15} seconds`)),
      Effect.forkScoped
    )

    const progressEveryMillis = (options.progressEverySeconds ?? 10) * 1000
    let lastProgressMillis = Number.NEGATIVE_INFINITY
    let startedEvent: AttemptReport["started"] = null
    let completed: AttemptReport["completed"] = null
    let interrupted: Extract<TrainerEvent, { event: "interrupted" }> | null = null
    let checkpointLoss: CheckpointLoss | null = null
    const checkpointBlockingSeconds: Array<number> = []
    const checkpointBytes: Array<number> = []
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
          if (event.event === "started") startedEvent = event
          if (event.event === "completed") completed = event
          if (event.event === "interrupted") interrupted = event
          if (event.event === "checkpoint") {
            checkpointBlockingSeconds.push(event.blockingSeconds)
            checkpointBytes.push(event.bytes)
          }
          if (event.event === "checkpoints-invalid") checkpointLoss = { _tag: "Invalid", event }
          yield* ledger.recordEvent(attempt.id, { kind: event.event, step: eventStep(event), payload: event })
          const missing = event.event === "started" ? detectMissingCheckpoint(event, expected) : null
          if (missing !== null) {
            // It started from step 0 although the job's checkpoints say otherwise: stopped at once, before it
            // writes a checkpoint of its own over the evidence.
            checkpointLoss = missing
            yield* ledger.recordEvent(attempt.id, { kind: "checkpoint-loss", step: null, payload: missing })
            yield* handle.cancel({ graceSeconds: 0 })
          }
        }
        if (options.onEvent !== undefined) yield* options.onEvent(attempt, event)
      }))
    const ended = yield* handle.exit
    // Under torchrun a coordinated stop (every rank checkpointed and exited 75) reads as exit 1 from outside.
    const exit = runsUnderTorchrun(launchSpec, attempt.placement) ? torchrunAttemptExit(ended, interrupted) : ended
    return { exit, report: { started: startedEvent, completed, checkpointBlockingSeconds, checkpointBytes, tokensPerSecond, checkpointLoss } }
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
