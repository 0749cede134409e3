/**
 * The read model behind the dashboard and `/metrics`: what they show, selected from the queue and the runner's
 * attempts in a few set-wise queries (the API's `listQueue` and `budgetsView` read job by job, which is right for a
 * job's page but not for 10,000 jobs a scrape). One SQL text for both ledgers (SQLite and PostgreSQL: no `||` on
 * numbers, no SUM over BIGINT, which PostgreSQL returns as NUMERIC text). Only the scheduler's jobs are counted: the
 * attempts of queue jobs, each with its job's team.
 */
import { Effect } from "effect"
import { SchedulerSql, type QueueStoreError, type SqlValue } from "../store/SchedulerSql.ts"
import {
  AttemptRow,
  ClosedTotalsRow,
  type CostedAttempt,
  CountRow,
  decodeRows,
  DeliveryRow,
  FailoverRow,
  ListedJobRow,
  type ListedJob,
  OldestRow,
  RunningRow,
  StampRow,
  StreakRow,
  toCostedAttempt,
  toListedJob,
  WaitRow,
  ZoneEventRow
} from "./ReadModelRows.ts"

/** Whose jobs a reader may see: every team's (the admins, a scrape) or the named teams'. */
export type TeamScope = "all" | ReadonlyArray<string>

const teamFilter = (column: string, scope: TeamScope): { readonly sql: string; readonly params: ReadonlyArray<SqlValue> } =>
  scope === "all"
    ? { sql: "", params: [] }
    : scope.length === 0
    ? { sql: ` AND 1 = 0`, params: [] }
    : { sql: ` AND ${column} IN (${scope.map(() => "?").join(", ")})`, params: scope }

const select = <A>(sql: string, params: ReadonlyArray<SqlValue>, decode: (rows: ReadonlyArray<unknown>) => Effect.Effect<A, QueueStoreError>) =>
  Effect.flatMap(Effect.service(SchedulerSql), (db) => Effect.flatMap(db.all(sql, params), decode))

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
      `SELECT ${LISTED_COLUMNS} FROM queue WHERE state IN ('completed', 'failed', 'cancelled')${team.sql}
       ORDER BY COALESCE(ended_ms, updated_ms) DESC, id LIMIT ?`,
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

export interface SpendTotal {
  readonly team: string
  readonly runner: string
  readonly purchaseOption: string
  /** How the attempts ended (`running` while open). */
  readonly exitReason: string
  readonly attempts: number
  readonly gpuHours: number
  readonly costUsd: number
}

/**
 * Every attempt of the queue's jobs, summed by team, engine, purchase option and ending: closed attempts by the
 * database (their cost is final), open ones here at their accrued cost. Totals only grow, as counters must.
 */
export const spendTotals = (scope: TeamScope): Effect.Effect<ReadonlyArray<SpendTotal>, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const team = teamFilter("q.team", scope)
    const closed = yield* select(
      `SELECT q.team, a.runner, a.purchase_option, a.exit_reason, COUNT(*) AS attempts, SUM(a.cost_usd) AS cost_usd,
         SUM(a.accelerators_per_instance * a.instance_count * (a.ended_ms - a.started_ms)) / 3600000.0 AS gpu_hours
       FROM attempts a JOIN queue q ON q.id = a.job_id WHERE a.ended_ms IS NOT NULL${team.sql}
       GROUP BY q.team, a.runner, a.purchase_option, a.exit_reason`,
      team.params,
      decodeRows(ClosedTotalsRow, "sum attempts")
    )
    const open = yield* costedAttempts("a.ended_ms IS NULL", [], scope)
    const totals = new Map<string, SpendTotal>()
    const add = (row: SpendTotal) => {
      const key = [row.team, row.runner, row.purchaseOption, row.exitReason].join("\u0000")
      const known = totals.get(key)
      totals.set(key, known === undefined ? row : {
        ...known,
        attempts: known.attempts + row.attempts,
        gpuHours: known.gpuHours + row.gpuHours,
        costUsd: known.costUsd + row.costUsd
      })
    }
    for (const row of closed) {
      add({
        team: row.team,
        runner: row.runner,
        purchaseOption: row.purchase_option,
        exitReason: row.exit_reason ?? "running",
        attempts: row.attempts,
        gpuHours: row.gpu_hours ?? 0,
        costUsd: row.cost_usd ?? 0
      })
    }
    for (const attempt of open) {
      add({
        team: attempt.team,
        runner: attempt.runner,
        purchaseOption: attempt.placement.purchaseOption,
        exitReason: "running",
        attempts: 1,
        gpuHours: attempt.gpuHours,
        costUsd: attempt.costUsd
      })
    }
    return [...totals.values()]
  })

export interface ZoneEvent {
  readonly team: string
  /** The AZ ID, or the region where the engine pins no zone (`local` for this machine). */
  readonly zone: string
  readonly kind: "interruption" | "provision-failure"
  /** The engine's reason (`Server.SpotInstanceTermination`, `InsufficientInstanceCapacity`), as recorded. */
  readonly reason: string | null
  readonly attempts: number
}

export interface Failover {
  readonly team: string
  readonly zone: string
  /** Where the job's next attempt went. */
  readonly movedTo: string
  readonly attempts: number
}

/** Interruptions and provisioning failures by zone and reason, and failovers (a job's next attempt elsewhere), since `sinceMillis`. */
export const zoneEvents = (
  sinceMillis: number,
  scope: TeamScope
): Effect.Effect<{ readonly events: ReadonlyArray<ZoneEvent>; readonly failovers: ReadonlyArray<Failover> }, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const team = teamFilter("q.team", scope)
    const rows = yield* select(
      `SELECT q.team, COALESCE(a.availability_zone, a.region) AS zone, a.exit_reason, a.reason, COUNT(*) AS attempts
       FROM attempts a JOIN queue q ON q.id = a.job_id
       WHERE a.exit_reason IN ('interrupted', 'provision-failed') AND a.ended_ms >= ?${team.sql}
       GROUP BY q.team, COALESCE(a.availability_zone, a.region), a.exit_reason, a.reason`,
      [sinceMillis, ...team.params],
      decodeRows(ZoneEventRow, "count interruptions by zone")
    )
    const failovers = yield* select(
      `SELECT team, zone, moved_to, COUNT(*) AS attempts FROM (
         SELECT q.team, a.ended_ms, COALESCE(a.availability_zone, a.region) AS zone,
           LEAD(COALESCE(a.availability_zone, a.region)) OVER (PARTITION BY a.job_id ORDER BY a.sequence) AS moved_to
         FROM attempts a JOIN queue q ON q.id = a.job_id WHERE 1 = 1${team.sql}
       ) AS moves WHERE moved_to IS NOT NULL AND moved_to <> zone AND ended_ms >= ? GROUP BY team, zone, moved_to`,
      [...team.params, sinceMillis],
      decodeRows(FailoverRow, "count failovers by zone")
    )
    return {
      events: rows.map((row) => ({
        team: row.team,
        zone: row.zone,
        kind: row.exit_reason === "interrupted" ? "interruption" as const : "provision-failure" as const,
        reason: row.reason,
        attempts: row.attempts
      })),
      failovers: failovers.map((row) => ({ team: row.team, zone: row.zone, movedTo: row.moved_to, attempts: row.attempts }))
    }
  })

/** How long each admitted job waited: from submission to its first admission, seconds, by team. */
export const queueWaits = (scope: TeamScope): Effect.Effect<ReadonlyArray<{ readonly team: string; readonly seconds: number }>, QueueStoreError, SchedulerSql> => {
  const team = teamFilter("q.team", scope)
  return Effect.map(
    select(
      `SELECT q.team, q.submitted_ms, MIN(d.time_ms) AS admitted_ms FROM queue q
       JOIN queue_decisions d ON d.job_id = q.id AND d.decision = 'admitted' WHERE 1 = 1${team.sql}
       GROUP BY q.id, q.team, q.submitted_ms`,
      team.params,
      decodeRows(WaitRow, "read queue waits")
    ),
    (rows) => rows.map((row) => ({ team: row.team, seconds: Math.max(0, row.admitted_ms - row.submitted_ms) / 1000 }))
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
