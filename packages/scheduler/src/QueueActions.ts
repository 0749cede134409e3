/**
 * What the queue offers its front doors (the HTTP API, and through it the CLI, the SDK and Slack): submit a
 * workload for a team, cancel a job, a job with its attempts and decisions, the teams' budgets. Each checks what
 * only it can (a workload is decoded and priced at submission, so a bad one is refused at once rather than failing
 * in the queue), writes through the QueueStore and wakes the scheduler.
 */
import { decodeWorkloadFile, InvalidInput, NoFeasiblePlacement, workloadsOf } from "@frugal/core"
import { type AttemptRecord, type JobLease, Ledger, type JobRecord, type LedgerError } from "@frugal/runner"
import { Clock, Effect } from "effect"
import { randomBytes } from "node:crypto"
import { admissionNeeds, JobLauncher, type LaunchFailure } from "./JobLauncher.ts"
import { QueueSignal } from "./QueueSignal.ts"
import { type SchedulerPolicy, teamLimits } from "./SchedulerPolicy.ts"
import type { QueueDecision, QueueJob } from "./store/QueueRecords.ts"
import { QueueStore } from "./store/QueueStore.ts"
import type { QueueStoreError } from "./store/SchedulerSql.ts"
import { type QueueSnapshot, snapshot, type TeamUsage, teamUsage } from "./Usage.ts"

export interface Submission {
  readonly team: string
  readonly priority: number
  /** The workload spec as YAML or JSON text. */
  readonly workloadText: string
}

/** `<name>-<yyyymmdd>-<hhmmss>-<4 hex>`: readable, sortable, unique. */
export const queueJobId = (name: string, nowMillis: number): string => {
  const stamp = new Date(nowMillis).toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-")
  return `${name}-${stamp}-${randomBytes(2).toString("hex")}`
}

/** Checks, prices and queues a workload for a team. */
export const submitToQueue = (
  submission: Submission,
  policy: SchedulerPolicy
): Effect.Effect<QueueJob, InvalidInput | NoFeasiblePlacement | LaunchFailure | QueueStoreError, QueueStore | JobLauncher | QueueSignal> =>
  Effect.gen(function*() {
    const limits = teamLimits(policy, submission.team)
    if (limits === undefined) {
      return yield* new InvalidInput({
        source: "request",
        issues: [{ path: "team", expected: `one of the configured teams (${policy.teams.map((t) => t.name).join(", ")})`, actual: submission.team }]
      })
    }
    const file = yield* decodeWorkloadFile(submission.workloadText, "workload")
    const workloads = workloadsOf(file)
    const workload = workloads[0]
    if (workload === undefined || workloads.length !== 1) {
      return yield* new InvalidInput({ source: "workload", issues: [{ path: "workloads", expected: "a single workload (submit each workload of a fleet on its own)", actual: `${workloads.length} workloads` }] })
    }
    const jobId = queueJobId(workload.name, yield* Clock.currentTimeMillis)
    const prepared = yield* (yield* JobLauncher).prepare(jobId, submission.workloadText)
    const assessment = prepared.assessment
    const needs = admissionNeeds(assessment.placements, assessment.planned, assessment.budgetUsd, "workload")
    if (needs instanceof InvalidInput) return yield* needs
    const limit = Math.min(limits.maxGpus, policy.maxGpus)
    if (needs.gpus > limit) {
      return yield* new NoFeasiblePlacement({
        workload: workload.name,
        constraint: "maxGpus",
        detail: `it needs ${needs.gpus} GPUs; team ${submission.team} may hold ${limits.maxGpus} and everyone together ${policy.maxGpus}`
      })
    }
    if (needs.expectedCostUsd > limits.monthlyBudgetUsd) {
      return yield* new NoFeasiblePlacement({
        workload: workload.name,
        constraint: "monthlyBudgetUsd",
        detail: `it is expected to cost $${needs.expectedCostUsd.toFixed(2)}, more than team ${submission.team}'s whole monthly budget of $${limits.monthlyBudgetUsd.toFixed(2)}`
      })
    }
    const queued = yield* (yield* QueueStore).submit({
      id: jobId,
      name: workload.name,
      team: submission.team,
      priority: submission.priority,
      deadlineHours: assessment.deadlineHours,
      expectedHours: needs.expectedHours,
      expectedCostUsd: needs.expectedCostUsd,
      gpus: needs.gpus,
      preemptible: needs.preemptible,
      quotaUse: assessment.quotaUse,
      placements: assessment.placements,
      planned: assessment.planned,
      workloadText: submission.workloadText
    })
    yield* (yield* QueueSignal).notify
    return queued
  })

/** Cancels a job: at once while queued; a running one is stopped by the scheduler (after its final checkpoint). */
export const cancelInQueue = (jobId: string): Effect.Effect<QueueJob | undefined, QueueStoreError, QueueStore | QueueSignal> =>
  Effect.gen(function*() {
    const job = yield* (yield* QueueStore).requestCancel(jobId)
    if (job !== undefined) yield* (yield* QueueSignal).notify
    return job
  })

export interface JobView {
  readonly job: QueueJob
  /** The cost so far: the ledger's for a job that has attempts. */
  readonly costUsd: number
  readonly run: JobRecord | undefined
  readonly attempts: ReadonlyArray<AttemptRecord>
  /** The job's live lease: who supervises it now; undefined when nobody does. */
  readonly lease: JobLease | undefined
  readonly decisions: ReadonlyArray<QueueDecision>
}

export const jobView = (jobId: string): Effect.Effect<JobView | undefined, QueueStoreError | LedgerError, QueueStore | Ledger> =>
  Effect.gen(function*() {
    const store = yield* QueueStore
    const job = yield* store.job(jobId)
    if (job === undefined) return undefined
    const ledger = yield* Ledger
    const run = yield* ledger.job(jobId)
    const attempts = run === undefined ? [] : yield* ledger.attempts(jobId)
    const lease = yield* ledger.lease(jobId)
    const live = lease !== undefined && lease.expiresAtMillis > (yield* Clock.currentTimeMillis) ? lease : undefined
    return {
      job,
      costUsd: attempts.length === 0 ? job.costUsd : attempts.reduce((sum, a) => sum + a.costUsd, 0),
      run,
      attempts,
      lease: live,
      decisions: yield* store.decisions(jobId)
    }
  })

/**
 * The jobs a caller may see, newest first, each with its cost so far: from the queue row for jobs that stopped, from
 * the ledger for the running ones (whose attempts still accrue).
 */
export const listQueue = (
  filter: { readonly team?: string | undefined; readonly states?: ReadonlyArray<QueueJob["state"]> | undefined }
): Effect.Effect<ReadonlyArray<{ readonly job: QueueJob; readonly costUsd: number }>, QueueStoreError | LedgerError, QueueStore | Ledger> =>
  Effect.gen(function*() {
    const ledger = yield* Ledger
    const jobs = yield* (yield* QueueStore).jobs(filter)
    return yield* Effect.forEach(jobs, (job) =>
      job.state === "running"
        ? Effect.map(ledger.attempts(job.id), (attempts) => ({ job, costUsd: attempts.reduce((sum, a) => sum + a.costUsd, 0) }))
        : Effect.succeed({ job, costUsd: job.costUsd }))
  })

export interface BudgetsView {
  readonly month: string
  readonly maxGpus: number
  readonly teams: ReadonlyArray<TeamUsage>
}

export const budgetsView = (policy: SchedulerPolicy): Effect.Effect<BudgetsView, QueueStoreError | LedgerError, QueueStore | Ledger> =>
  Effect.map(snapshot(), (view: QueueSnapshot) => ({
    month: new Date(view.nowMillis).toISOString().slice(0, 7),
    maxGpus: policy.maxGpus,
    teams: teamUsage(policy, view)
  }))
