/**
 * The read model behind the dashboard and `/metrics`: what they show, selected from the queue and the runner's
 * attempts in a few set-wise queries (the API's `listQueue` and `budgetsView` read job by job, which is right for a
 * job's page but not for 10,000 jobs a scrape). One SQL text for both ledgers (SQLite and PostgreSQL: no `||` on
 * numbers, no SUM over BIGINT, which PostgreSQL returns as NUMERIC text). Only the scheduler's jobs are counted: the
 * attempts of queue jobs, each with its job's team.
 */
import { Effect } from "effect"
import { type QueueStoreError, SchedulerSql, type SqlValue } from "../store/SchedulerSql.ts"
import { closedTotals, mergeTotals, type SpendTotal } from "./ClosedAttempts.ts"
import { select, teamFilter, type TeamScope } from "./ReadModelSql.ts"
import {
  AdmissionRow,
  AttemptRow,
  type CostedAttempt,
  CountRow,
  decodeRows,
  DeliveryRow,
  type ListedJob,
  ListedJobRow,
  OldestRow,
  RunningRow,
  StampRow,
  StreakRow,
  TeamSumRow,
  toCostedAttempt,
  toListedJob
} from "./ReadModelRows.ts"

/**
 * A short text that changes whenever anything the dashboard shows may have changed: a job submitted or moved
 * (queue `updated_ms`, a decision), an attempt started, seen (its cost accrues) or ended. Cheap: maxima and counts.
 */
export const observationStamp: Effect.Effect<string, QueueStoreError, SchedulerSql> = Effect.map(
  select(
    `SELECT (SELECT COUNT(*) FROM queue) AS jobs, (SELECT MAX(updated_ms) FROM queue) AS queue_ms,
       (SELECT MAX(id) FROM queue_decisions) AS decision_id, (SELECT COUNT(*) FROM attempts) AS attempts,
       (SELECT MAX(last_seen_ms) FROM attempts WHERE ended_ms IS NULL) AS open_seen_ms, (SELECT MAX(ended_ms) FROM attempts) AS ended_ms`,
    [],
    decodeRows(StampRow, "read the queue's stamp")
  ),
  (rows) => {
    const row = rows[0]
    return row === undefined ? "empty" : [row.jobs, row.queue_ms, row.decision_id, row.attempts, row.open_seen_ms, row.ended_ms].map((n) => n ?? "-").join(".")
  }
)

const LISTED_COLUMNS = `id, name, team, state, reason, detail, priority, submitted_ms, admitted_ms, ended_ms, expected_cost_usd, cost_usd,
  gpus, preemptions, cancel_requested`

const ATTEMPT_COLUMNS = `a.job_id, q.team, q.state AS job_state, q.expected_cost_usd, q.gpus AS job_gpus, a.sequence, a.runner,
  a.instance_type, a.region, a.availability_zone, a.purchase_option, a.hourly_price_usd, a.instance_count,
  a.accelerators_per_instance, a.started_ms, a.last_seen_ms, a.ended_ms, a.exit_reason, a.reason, a.transfer_cost_usd, a.cost_usd`

/** Attempts of queue jobs matching `where` (on `a` and `q`), costed. */
const costedAttempts = (where: string, params: ReadonlyArray<SqlValue>, scope: TeamScope) => {
  const team = teamFilter("q.team", scope)
  return Effect.map(
    select(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts a JOIN queue q ON q.id = a.job_id WHERE ${where}${team.sql} ORDER BY a.job_id, a.sequence`,
      [...params, ...team.params],
      decodeRows(AttemptRow, "read attempts")
    ),
    (rows) => rows.map(toCostedAttempt)
  )
}

/** Every attempt of the running jobs. */
export const runningAttempts = (scope: TeamScope): Effect.Effect<ReadonlyArray<CostedAttempt>, QueueStoreError, SchedulerSql> =>
  costedAttempts("q.state = 'running'", [], scope)

/** Attempts still open or ended at or after `sinceMillis`. */
export const attemptsSince = (sinceMillis: number, scope: TeamScope): Effect.Effect<ReadonlyArray<CostedAttempt>, QueueStoreError, SchedulerSql> =>
  costedAttempts("(a.ended_ms IS NULL OR a.ended_ms >= ?)", [sinceMillis], scope)

export interface MonthAttempts {
  /** Per team, the cost of attempts that started and ended within [from, to]: all of it falls in the month. */
  readonly closedInsideUsd: ReadonlyMap<string, number>
  /** Attempts still open, or closed across `from` or after `to`: only a share of their cost falls inside. */
  readonly straddling: ReadonlyArray<CostedAttempt>
}

/**
 * The attempts that count toward a month: those wholly inside it summed by the database, the rest (open, or begun
 * before the month) for `costWithinUsd` to share out.
 */
export const monthAttempts = (fromMillis: number, toMillis: number, scope: TeamScope): Effect.Effect<MonthAttempts, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const team = teamFilter("q.team", scope)
    const inside = yield* select(
      `SELECT q.team, SUM(a.cost_usd) AS cost_usd FROM attempts a JOIN queue q ON q.id = a.job_id
       WHERE a.ended_ms >= ? AND a.ended_ms <= ? AND a.started_ms >= ?${team.sql} GROUP BY q.team`,
      [fromMillis, toMillis, fromMillis, ...team.params],
      decodeRows(TeamSumRow, "sum this month's attempts")
    )
    // Two questions rather than one with OR, so that each is answered from an index on ended_ms.
    const open = yield* costedAttempts("a.ended_ms IS NULL", [], scope)
    const across = yield* costedAttempts("a.ended_ms >= ? AND (a.started_ms < ? OR a.ended_ms > ?)", [fromMillis, fromMillis, toMillis], scope)
    return { closedInsideUsd: new Map(inside.map((row) => [row.team, row.cost_usd ?? 0])), straddling: [...open, ...across] }
  })

/** The running jobs with what admission reserved for them. */
export const runningJobs = (scope: TeamScope) => {
  const team = teamFilter("team", scope)
  return Effect.map(
    select(
      `SELECT id, team, gpus, expected_cost_usd FROM queue WHERE state = 'running'${team.sql}`,
      team.params,
      decodeRows(RunningRow, "read running jobs")
    ),
    (rows) => rows.map((row) => ({ id: row.id, team: row.team, gpus: row.gpus, expectedCostUsd: row.expected_cost_usd }))
  )
}

/** Jobs per team and state. */
export const jobCounts = (scope: TeamScope) => {
  const team = teamFilter("team", scope)
  return select(`SELECT team, state, COUNT(*) AS jobs FROM queue WHERE 1 = 1${team.sql} GROUP BY team, state`, team.params, decodeRows(CountRow, "count jobs"))
}

export interface QueueListing {
  /** Queued and running jobs, newest submission first (at most `activeLimit`). */
  readonly active: ReadonlyArray<ListedJob>
  /** Ended jobs, the latest to end first (at most `endedLimit`). */
  readonly ended: ReadonlyArray<ListedJob>
}

/** The queue as a page lists it: the jobs still in play, then the latest to end; running jobs costed as they accrue. */
export const queueListing = (
  scope: TeamScope,
  limits: { readonly activeLimit: number; readonly endedLimit: number }
): Effect.Effect<QueueListing, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const team = teamFilter("team", scope)
    const decode = decodeRows(ListedJobRow, "list the queue")
    const active = yield* select(
      `SELECT ${LISTED_COLUMNS} FROM queue WHERE state IN ('queued', 'running')${team.sql} ORDER BY submitted_ms DESC, id LIMIT ?`,
      [...team.params, limits.activeLimit],
      decode
    )
    const ended = yield* select(
      // An ended job's row changes no more: its last update is when it ended.
      `SELECT ${LISTED_COLUMNS} FROM queue WHERE state IN ('completed', 'failed', 'cancelled')${team.sql}
       ORDER BY updated_ms DESC, id LIMIT ?`,
      [...team.params, limits.endedLimit],
      decode
    )
    const accrued = new Map<string, number>()
    if (active.some((row) => row.state === "running")) {
      for (const attempt of yield* runningAttempts(scope)) accrued.set(attempt.jobId, (accrued.get(attempt.jobId) ?? 0) + attempt.costUsd)
    }
    return {
      active: active.map((row) => toListedJob(row, row.state === "running" ? accrued.get(row.id) ?? 0 : row.cost_usd)),
      ended: ended.map((row) => toListedJob(row, row.cost_usd))
    }
  })

/**
 * Every attempt of the queue's jobs, summed by team, engine, purchase option and ending: closed attempts by the
 * database (their cost is final; ClosedAttempts keeps the sums until another one closes), open ones here at their
 * accrued cost. Totals only grow, as counters must.
 */
export const spendTotals = (scope: TeamScope): Effect.Effect<ReadonlyArray<SpendTotal>, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const closed = yield* closedTotals(scope)
    const open = yield* costedAttempts("a.ended_ms IS NULL", [], scope)
    return mergeTotals([
      ...closed,
      ...open.map((attempt) => ({
        team: attempt.team,
        runner: attempt.runner,
        purchaseOption: attempt.placement.purchaseOption,
        exitReason: "running",
        attempts: 1,
        gpuHours: attempt.gpuHours,
        costUsd: attempt.costUsd
      }))
    ])
  })

export interface Admissions {
  /** The newest decision read: pass it as `afterDecisionId` next time to read only what came since. */
  readonly lastDecisionId: number
  /** Each job admitted for the first time after `afterDecisionId`: its wait from submission, seconds. */
  readonly waits: ReadonlyArray<{ readonly jobId: string; readonly team: string; readonly seconds: number }>
}

/**
 * First admissions recorded after decision `afterDecisionId` (0: all of them), oldest first. A job's first wait never
 * changes, so a reader that keeps `lastDecisionId` reads each admission once (only the leader admits, one decision
 * at a time, so ids are recorded in order).
 */
export const firstAdmissions = (afterDecisionId: number, scope: TeamScope): Effect.Effect<Admissions, QueueStoreError, SchedulerSql> => {
  const team = teamFilter("q.team", scope)
  return Effect.map(
    select(
      `SELECT f.first_id AS id, f.job_id, q.team, q.submitted_ms, d.time_ms
       FROM (SELECT job_id, MIN(id) AS first_id FROM queue_decisions WHERE decision = 'admitted' GROUP BY job_id) AS f
       JOIN queue_decisions d ON d.id = f.first_id JOIN queue q ON q.id = f.job_id
       WHERE f.first_id > ?${team.sql} ORDER BY f.first_id`,
      [afterDecisionId, ...team.params],
      decodeRows(AdmissionRow, "read admissions")
    ),
    (rows) => ({
      lastDecisionId: rows.reduce((last, row) => Math.max(last, row.id), afterDecisionId),
      waits: rows.map((row) => ({ jobId: row.job_id, team: row.team, seconds: Math.max(0, row.time_ms - row.submitted_ms) / 1000 }))
    })
  )
}

/** The longest-waiting queued job's submission time per team, and how many wait. */
export const queuedOldest = (scope: TeamScope) => {
  const team = teamFilter("team", scope)
  return select(
    `SELECT team, MIN(submitted_ms) AS submitted_ms, COUNT(*) AS jobs FROM queue WHERE state = 'queued'${team.sql} GROUP BY team`,
    team.params,
    decodeRows(OldestRow, "read the oldest queued jobs")
  )
}

/** The attempts of jobs still waiting or running, in sequence order (for failure streaks). */
export const activeAttemptEndings = (scope: TeamScope) => {
  const team = teamFilter("q.team", scope)
  return Effect.map(
    select(
      `SELECT a.job_id, q.team, a.sequence, a.exit_reason FROM attempts a JOIN queue q ON q.id = a.job_id
       WHERE q.state IN ('queued', 'running')${team.sql} ORDER BY a.job_id, a.sequence`,
      team.params,
      decodeRows(StreakRow, "read attempt endings")
    ),
    (rows) => rows.map((row) => ({ jobId: row.job_id, team: row.team, sequence: row.sequence, exitReason: row.exit_reason }))
  )
}

export interface ReportDelivery {
  readonly destination: string
  readonly period: { readonly start: string; readonly end: string }
  readonly deliveredAtMillis: number
}

/**
 * The last waste report delivered by `frugal report schedule` into this ledger's `report_deliveries`; null when the
 * table is absent (no schedule ever ran here, or a PostgreSQL ledger) or nothing was delivered.
 */
export const lastReportDelivery: Effect.Effect<ReportDelivery | null, QueueStoreError, SchedulerSql> = Effect.gen(function*() {
  const db = yield* SchedulerSql
  const exists = db.dialect === "sqlite"
    ? yield* db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'report_deliveries'")
    : yield* db.all("SELECT table_name FROM information_schema.tables WHERE table_name = 'report_deliveries'")
  if (exists.length === 0) return null
  const rows = yield* select(
    `SELECT destination, period_start, period_end, delivered_ms FROM report_deliveries
     WHERE status = 'delivered' AND delivered_ms IS NOT NULL ORDER BY delivered_ms DESC LIMIT 1`,
    [],
    decodeRows(DeliveryRow, "read report deliveries")
  )
  const row = rows[0]
  return row === undefined ? null : { destination: row.destination, period: { start: row.period_start, end: row.period_end }, deliveredAtMillis: row.delivered_ms }
})
