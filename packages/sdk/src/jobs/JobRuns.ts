/**
 * Running a prepared job to its end, continuing one from the ledger (`--resume`), and what the ledger says about
 * jobs (`frugal status`): the Effect programs behind `frugal run`, `frugal status` and the SDK's `run`, `resume` and
 * `status`.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { join } from "node:path"
import type { InvalidInput } from "@frugal/core"
import {
  type AttemptRecord,
  decodeJobPolicy,
  decodeJobSpec,
  jobDirectory,
  type JobLease,
  type JobOutcome,
  type JobRecord,
  Ledger,
  type LedgerError,
  Supervisor,
  type SuperviseError,
  type SuperviseOptions
} from "@frugal/runner"
import { JobNotFound, JobSpecUnreadable, workloadDifferences, workloadIdentity, WorkloadMismatch } from "@frugal/runner"
import type { WorkloadInput } from "../WorkloadInput.ts"
import { setUpEngines } from "./EngineSetup.ts"
import { loadInfraProfile } from "../InfraProfileFile.ts"
import { checkJobId, jobEngineNames, type PreparedJob } from "./Jobs.ts"
import { singleWorkload } from "./TrainerLaunch.ts"

/** What a caller hears while a job runs (progress lines, a dashboard). */
export type RunHooks = Pick<SuperviseOptions, "onEvent" | "onAttemptEnd" | "onDecision" | "onAdopt" | "onLease">

/** How a job (re)starts. */
export interface StartOptions {
  /** When no valid checkpoint remains, start over from step 0 instead of stopping the job (`--from-scratch`). */
  readonly fromScratch?: boolean | undefined
  /** What holds the job's lease, as another process's refusal names it. Default `frugal run`. */
  readonly leaseLabel?: string | undefined
}

type RunError = SuperviseError

/** Where a job's attempt logs go: `$FRUGAL_HOME/jobs/<id>/logs`. */
export const jobLogDirectory = (env: Readonly<Record<string, string | undefined>>, jobId: string): string =>
  join(jobDirectory(env, jobId), "logs")

/** Runs a prepared job to its end (or continues it when its id is in the ledger already). */
export const runPrepared = Effect.fn("Jobs.run")(function*(
  prepared: PreparedJob,
  env: Readonly<Record<string, string | undefined>>,
  hooks: RunHooks = {},
  start: StartOptions = {}
): Effect.fn.Return<JobOutcome, RunError, Ledger> {
  return yield* Effect.flatMap(Supervisor, (supervisor) =>
    supervisor.run(prepared.jobId, prepared.spec, {
      ...hooks,
      policy: prepared.policy,
      logDirectory: jobLogDirectory(env, prepared.jobId),
      workload: workloadIdentity(prepared.workload),
      fromScratch: start.fromScratch === true,
      leaseLabel: start.leaseLabel ?? "frugal run"
    })).pipe(Effect.provide(Supervisor.layer.pipe(Layer.provide(prepared.engines.layer))))
})

export interface ResumeRequest {
  readonly jobId: string
  /** The profile the engines are configured from now (`--infra`); absent: FRUGAL_INFRA, else the XDG default. */
  readonly infra?: string | undefined
  /** Prices a cluster configured only by the environment. */
  readonly pricePerHourUsd?: number | undefined
  /**
   * The workload the caller means (`frugal run FILE --job-id JOB`): the job continues only when it was made from the
   * same workload; another one is refused with what differs (WorkloadMismatch).
   */
  readonly workload?: { readonly input: WorkloadInput; readonly source?: string | undefined } | undefined
  /** When no valid checkpoint remains, start over from step 0 instead of stopping the job (`--from-scratch`). */
  readonly fromScratch?: boolean | undefined
  /** What holds the job's lease, as another process's refusal names it. Default `frugal run --resume`. */
  readonly leaseLabel?: string | undefined
}

/** Continues a job from the ledger alone, adopting what a dead supervisor left running where the engine can. */
export const resumeJob = Effect.fn("Jobs.resume")(function*(
  request: ResumeRequest,
  env: Readonly<Record<string, string | undefined>>,
  hooks: RunHooks = {}
): Effect.fn.Return<JobOutcome, RunError | InvalidInput, Ledger> {
  const jobId = yield* checkJobId("--resume", request.jobId)
  const ledger = yield* Ledger
  const job = yield* ledger.job(jobId)
  if (job === undefined) return yield* new JobNotFound({ jobId })
  const given = request.workload === undefined
    ? undefined
    : workloadIdentity(yield* singleWorkload(request.workload.input, request.workload.source))
  // Checked here before any engine is set up, and again by the supervisor once it holds the job's lease.
  if (given !== undefined && job.workloadJson !== null && job.workloadSha256 !== given.sha256) {
    return yield* new WorkloadMismatch({ jobId, differences: workloadDifferences(job.workloadJson, given.json) })
  }
  const spec = yield* decodeJobSpec(job.specJson).pipe(Effect.mapError((error) => new JobSpecUnreadable({ jobId, detail: error.message })))
  const policy = job.policyJson === null
    ? null
    : yield* decodeJobPolicy(job.policyJson).pipe(Effect.mapError((error) => new JobSpecUnreadable({ jobId, detail: `its policy: ${error.message}` })))
  // The profile the job started with, unless one is named now (`--infra`).
  const profile = request.infra === undefined && spec.infra !== undefined ? { profile: spec.infra } : yield* loadInfraProfile(request.infra, env)
  const engines = yield* setUpEngines(profile.profile, env, jobEngineNames(policy, spec, yield* ledger.attempts(jobId)), {
    pricePerHourUsd: request.pricePerHourUsd
  })
  const options: SuperviseOptions = {
    ...hooks,
    logDirectory: jobLogDirectory(env, jobId),
    fromScratch: request.fromScratch === true,
    leaseLabel: request.leaseLabel ?? "frugal run --resume",
    ...(given === undefined ? {} : { workload: given })
  }
  return yield* Effect.flatMap(Supervisor, (supervisor) => supervisor.resume(jobId, options)).pipe(
    Effect.provide(Supervisor.layer.pipe(Layer.provide(engines.layer)))
  )
})

/** One attempt as `frugal status --json` prints it (ARCHITECTURE.md), with the engine's details after. */
export const attemptStatus = (attempt: AttemptRecord) => ({
  sequence: attempt.sequence,
  id: attempt.id,
  runner: attempt.runner,
  instanceType: attempt.placement.instanceType,
  region: attempt.placement.region,
  availabilityZone: attempt.placement.availabilityZone,
  purchaseOption: attempt.placement.purchaseOption,
  instanceCount: attempt.placement.instanceCount,
  pool: attempt.placement.pool ?? null,
  outcome: attempt.outcome,
  reason: attempt.reason,
  startedAt: isoTime(attempt.startedAtMillis),
  endedAt: attempt.endedAtMillis === null ? null : isoTime(attempt.endedAtMillis),
  costUsd: attempt.costUsd,
  transferCostUsd: attempt.transferCostUsd,
  placement: attempt.placement,
  externalId: attempt.externalId,
  lastSeenAt: isoTime(attempt.lastSeenAtMillis),
  durationSeconds: ((attempt.endedAtMillis ?? attempt.lastSeenAtMillis) - attempt.startedAtMillis) / 1000,
  exitReason: attempt.exitReason,
  exitDetail: attempt.exitDetail,
  exitCode: attempt.exitCode,
  resumedFromStep: attempt.resumedFromStep,
  lastStep: attempt.lastStep,
  lastCheckpointStep: attempt.lastCheckpointStep,
  checkpointEverySeconds: attempt.checkpointEverySeconds,
  logPath: attempt.logPath
})

/** A job as `frugal status` lists it. */
export const jobStatus = (job: JobRecord, attempts: ReadonlyArray<AttemptRecord>) => ({
  id: job.id,
  name: job.name,
  state: job.status,
  status: job.status,
  runner: job.runner,
  attempts: attempts.length,
  costUsd: attempts.reduce((sum, a) => sum + a.costUsd, 0),
  finalStep: job.finalStep,
  weightsSha256: job.weightsSha256,
  detail: job.detail,
  createdAt: isoTime(job.createdAtMillis),
  updatedAt: isoTime(job.updatedAtMillis)
})

export type JobStatus = ReturnType<typeof jobStatus>
export type AttemptStatus = ReturnType<typeof attemptStatus>

/** Who runs the job now, from its lease: null when no live lease is held (nobody supervises it). */
export const supervisorStatus = (lease: JobLease | undefined, nowMillis: number) =>
  lease === undefined || lease.expiresAtMillis <= nowMillis
    ? null
    : {
      pid: lease.holder.pid,
      host: lease.holder.host,
      label: lease.holder.label,
      since: isoTime(lease.acquiredAtMillis),
      heartbeatAt: isoTime(lease.heartbeatAtMillis),
      leaseExpiresAt: isoTime(lease.expiresAtMillis)
    }

export type SupervisorStatus = ReturnType<typeof supervisorStatus>

/** What `frugal status JOB --json` prints. */
export interface JobStatusReport {
  readonly job: JobStatus
  /** Who supervises the job now (its live lease), or null. */
  readonly supervisor: SupervisorStatus
  readonly attempts: ReadonlyArray<AttemptStatus>
}

/** What `frugal status --json` prints. */
export interface JobsStatusReport {
  readonly ledger: string
  readonly jobs: ReadonlyArray<JobStatus>
}

/** `frugal status JOB --json`: the job, who supervises it now, and its attempts. */
export const jobStatusReport = Effect.fn("Jobs.status")(function*(jobId: string): Effect.fn.Return<JobStatusReport, LedgerError | JobNotFound, Ledger> {
  const ledger = yield* Ledger
  const job = yield* ledger.job(jobId)
  if (job === undefined) return yield* new JobNotFound({ jobId })
  const attempts = yield* ledger.attempts(jobId)
  const supervisor = supervisorStatus(yield* ledger.lease(jobId), yield* Clock.currentTimeMillis)
  return { job: jobStatus(job, attempts), supervisor, attempts: attempts.map(attemptStatus) }
})

/** `frugal status --json`: every job, newest first. */
export const jobsStatusReport: Effect.Effect<JobsStatusReport, LedgerError, Ledger> =
  Effect.gen(function*() {
    const ledger = yield* Ledger
    const jobs = yield* Effect.forEach(yield* ledger.jobs, (job) => Effect.map(ledger.attempts(job.id), (attempts) => jobStatus(job, attempts)))
    return { ledger: ledger.path, jobs }
  })

const isoTime = (millis: number): string => new Date(millis).toISOString()
