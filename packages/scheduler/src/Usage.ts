/**
 * What the teams hold and have spent now, read from the queue and the ledger: the input of an admission pass
 * (`snapshot`) and what `GET /api/v1/budgets` reports (`teamUsage`). A job that ended before this month adds
 * nothing; a job that ended this month keeps its spend cached (its attempts no longer change).
 */
import { type AttemptRecord, Ledger, type LedgerError } from "@frugal/runner"
import { Clock, Effect } from "effect"
import type { RunningWork } from "./Admission.ts"
import type { SchedulerPolicy } from "./SchedulerPolicy.ts"
import { monthStartMillis, spentThisMonthUsd } from "./Spend.ts"
import type { QueueJob } from "./store/QueueRecords.ts"
import { QueueStore } from "./store/QueueStore.ts"
import type { QueueStoreError } from "./store/SchedulerSql.ts"

export interface QueueSnapshot {
  readonly nowMillis: number
  readonly queued: ReadonlyArray<QueueJob>
  readonly running: ReadonlyArray<QueueJob>
  readonly runningWork: ReadonlyArray<RunningWork>
  /** This month's spend per team, USD. */
  readonly spentUsd: ReadonlyMap<string, number>
  /** The open attempt of each running job, when it has one. */
  readonly openAttempts: ReadonlyMap<string, AttemptRecord>
}

export interface TeamUsage {
  readonly team: string
  readonly monthlyBudgetUsd: number
  readonly spentUsd: number
  /** What running jobs are still expected to cost (expected − accrued, at least 0). */
  readonly reservedUsd: number
  readonly remainingUsd: number
  readonly gpusInUse: number
  readonly maxGpus: number
  readonly runningJobs: number
  readonly queuedJobs: number
}

/** Spend of jobs that ended this month, by job id and month: their attempts are final. */
export class SpendCache {
  private readonly ended = new Map<string, { readonly month: number; readonly usd: number }>()
  get(jobId: string, month: number): number | undefined {
    const hit = this.ended.get(jobId)
    return hit !== undefined && hit.month === month ? hit.usd : undefined
  }
  set(jobId: string, month: number, usd: number): void {
    this.ended.set(jobId, { month, usd })
  }
}

const attemptsCost = (attempts: ReadonlyArray<AttemptRecord>): number => attempts.reduce((sum, a) => sum + a.costUsd, 0)

export const snapshot = (cache: SpendCache = new SpendCache()): Effect.Effect<QueueSnapshot, QueueStoreError | LedgerError, QueueStore | Ledger> =>
  Effect.gen(function*() {
    const store = yield* QueueStore
    const ledger = yield* Ledger
    const nowMillis = yield* Clock.currentTimeMillis
    const month = monthStartMillis(nowMillis)
    const jobs = yield* store.jobs()
    const queued = jobs.filter((job) => job.state === "queued")
    const running = jobs.filter((job) => job.state === "running")
    const spent = new Map<string, number>()
    const runningWork: Array<RunningWork> = []
    const openAttempts = new Map<string, AttemptRecord>()
    for (const job of jobs) {
      const ended = job.state === "completed" || job.state === "failed" || job.state === "cancelled"
      // Jobs that never ran this month: ended before it, or queued without ever running.
      if (ended && (job.endedAtMillis ?? 0) < month) continue
      if (job.state === "queued" && job.preemptions === 0) continue
      if (ended && job.admittedAtMillis === null && job.preemptions === 0) continue
      let usd = ended ? cache.get(job.id, month) : undefined
      let attempts: ReadonlyArray<AttemptRecord> = []
      if (usd === undefined) {
        attempts = yield* ledger.attempts(job.id)
        usd = spentThisMonthUsd(attempts, nowMillis)
        if (ended) cache.set(job.id, month, usd)
      }
      spent.set(job.team, (spent.get(job.team) ?? 0) + usd)
      if (job.state === "running") {
        const open = attempts.find((a) => a.endedAtMillis === null)
        if (open !== undefined) openAttempts.set(job.id, open)
        runningWork.push({
          id: job.id,
          team: job.team,
          priority: job.priority,
          gpus: job.gpus,
          startedAtMillis: job.admittedAtMillis ?? job.submittedAtMillis,
          preemptible: (open?.placement.purchaseOption ?? (job.preemptible ? "spot" : "on-demand")) === "spot",
          preempting: job.preemptRequested,
          expectedCostUsd: job.expectedCostUsd,
          costUsd: attemptsCost(attempts),
          quotaUse: job.quotaUse
        })
      }
    }
    return { nowMillis, queued, running, runningWork, spentUsd: spent, openAttempts }
  })

/** Each configured team's month and GPUs now. */
export const teamUsage = (policy: SchedulerPolicy, view: QueueSnapshot): ReadonlyArray<TeamUsage> =>
  policy.teams.map((team) => {
    const running = view.runningWork.filter((job) => job.team === team.name)
    const spentUsd = view.spentUsd.get(team.name) ?? 0
    const reservedUsd = running.reduce((sum, job) => sum + Math.max(0, job.expectedCostUsd - job.costUsd), 0)
    return {
      team: team.name,
      monthlyBudgetUsd: team.monthlyBudgetUsd,
      spentUsd,
      reservedUsd,
      remainingUsd: team.monthlyBudgetUsd - spentUsd - reservedUsd,
      gpusInUse: running.reduce((sum, job) => sum + job.gpus, 0),
      maxGpus: team.maxGpus,
      runningJobs: running.length,
      queuedJobs: view.queued.filter((job) => job.team === team.name).length
    }
  })
