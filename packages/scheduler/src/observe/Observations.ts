/**
 * What the dashboard and `/metrics` show, computed from costed attempts and queue rows (pure): each team's month
 * (the same arithmetic as `GET /api/v1/budgets`), jobs failing attempt after attempt, and label values kept
 * bounded so that no job id or free text becomes a Prometheus series.
 */
import { type SchedulerPolicy } from "../SchedulerPolicy.ts"
import { costWithinUsd, monthStartMillis } from "../Spend.ts"
import type { QueueState } from "../QueueStates.ts"
import type { TeamUsage } from "../Usage.ts"
import type { CostedAttempt } from "./ReadModelRows.ts"

/** Attempt endings that count as the job failing (an interruption is the market's doing, not the job's). */
export const FAILED_EXITS: ReadonlyArray<string> = ["crashed", "provision-failed"]

/** Consecutive failed attempts at which a waiting or running job counts as failing repeatedly. */
export const FAILING_STREAK = 3

/**
 * Each configured team's month: spent (attempts' cost inside the month, UTC), reserved (what running jobs are still
 * expected to cost: expected − accrued, at least 0), remaining, GPUs held, running and queued jobs. The same figures
 * as `teamUsage` over a `snapshot`, computed from the attempts the read model selected instead of job by job.
 */
export const monthUsage = (
  policy: SchedulerPolicy,
  nowMillis: number,
  input: {
    /** Per team, the cost of attempts wholly inside this month (started and ended in it). */
    readonly closedInsideUsd: ReadonlyMap<string, number>
    /** The other attempts of queue jobs that ended this month or are still open. */
    readonly straddling: ReadonlyArray<CostedAttempt>
    /** Every attempt of the running jobs (their accrued cost, whenever it was spent). */
    readonly runningAttempts: ReadonlyArray<CostedAttempt>
    readonly running: ReadonlyArray<{ readonly id: string; readonly team: string; readonly gpus: number; readonly expectedCostUsd: number }>
    readonly counts: ReadonlyArray<{ readonly team: string; readonly state: QueueState; readonly jobs: number }>
  }
): ReadonlyArray<TeamUsage> => {
  const month = monthStartMillis(nowMillis)
  const spent = new Map<string, number>(input.closedInsideUsd)
  for (const attempt of input.straddling) {
    const usd = costWithinUsd(
      { startedAtMillis: attempt.startedAtMillis, endedAtMillis: attempt.endedAtMillis, lastSeenAtMillis: attempt.lastSeenAtMillis, costUsd: attempt.costUsd },
      month,
      nowMillis
    )
    spent.set(attempt.team, (spent.get(attempt.team) ?? 0) + usd)
  }
  const accrued = new Map<string, number>()
  for (const attempt of input.runningAttempts) accrued.set(attempt.jobId, (accrued.get(attempt.jobId) ?? 0) + attempt.costUsd)
  const countOf = (team: string, state: QueueState) => input.counts.find((row) => row.team === team && row.state === state)?.jobs ?? 0
  return policy.teams.map((team) => {
    const running = input.running.filter((job) => job.team === team.name)
    const spentUsd = spent.get(team.name) ?? 0
    const reservedUsd = running.reduce((sum, job) => sum + Math.max(0, job.expectedCostUsd - (accrued.get(job.id) ?? 0)), 0)
    return {
      team: team.name,
      monthlyBudgetUsd: team.monthlyBudgetUsd,
      spentUsd,
      reservedUsd,
      remainingUsd: team.monthlyBudgetUsd - spentUsd - reservedUsd,
      gpusInUse: running.reduce((sum, job) => sum + job.gpus, 0),
      maxGpus: team.maxGpus,
      runningJobs: running.length,
      queuedJobs: countOf(team.name, "queued")
    }
  })
}

/** Jobs per team whose last `FAILING_STREAK` or more attempts all failed (attempts in sequence order per job). */
export const failingJobs = (
  attempts: ReadonlyArray<{ readonly jobId: string; readonly team: string; readonly sequence: number; readonly exitReason: string | null }>
): ReadonlyMap<string, number> => {
  const byJob = new Map<string, { team: string; streak: number }>()
  for (const attempt of [...attempts].sort((a, b) => a.jobId.localeCompare(b.jobId) || a.sequence - b.sequence)) {
    const entry = byJob.get(attempt.jobId) ?? { team: attempt.team, streak: 0 }
    entry.streak = attempt.exitReason !== null && FAILED_EXITS.includes(attempt.exitReason) ? entry.streak + 1 : 0
    byJob.set(attempt.jobId, entry)
  }
  const failing = new Map<string, number>()
  for (const entry of byJob.values()) {
    if (entry.streak >= FAILING_STREAK) failing.set(entry.team, (failing.get(entry.team) ?? 0) + 1)
  }
  return failing
}

const LABEL_CHARACTERS = /[^A-Za-z0-9._:-]+/g
const MAX_LABEL_CHARACTERS = 64

/** A label value made of safe characters (runs of others become `_`), at most 64 characters; empty or null: `unknown`. */
export const labelValue = (text: string | null): string => {
  const cleaned = (text ?? "").replace(LABEL_CHARACTERS, "_").replace(/^_+|_+$/g, "").slice(0, MAX_LABEL_CHARACTERS)
  return cleaned === "" ? "unknown" : cleaned
}

/**
 * Keeps a label's values bounded: the `keep` values with the most weight stay, every other one becomes `other`.
 * Rows are merged after the rename, so the total weight is unchanged.
 */
export const boundLabel = <A extends Record<K, string>, K extends keyof A>(
  rows: ReadonlyArray<A>,
  key: K,
  keep: number,
  weight: (row: A) => number,
  merge: (into: A, row: A) => A,
  identity: (row: A) => string
): ReadonlyArray<A> => {
  const totals = new Map<string, number>()
  for (const row of rows) totals.set(row[key], (totals.get(row[key]) ?? 0) + weight(row))
  const kept = new Set([...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, keep).map(([value]) => value))
  const merged = new Map<string, A>()
  for (const row of rows) {
    const renamed = kept.has(row[key]) ? row : { ...row, [key]: "other" }
    const id = identity(renamed)
    const existing = merged.get(id)
    merged.set(id, existing === undefined ? renamed : merge(existing, renamed))
  }
  return [...merged.values()]
}
