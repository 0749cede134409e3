/**
 * Figures of the attempts that ended: dollars and GPU-hours by team, engine, purchase option and ending;
 * interruptions and provisioning failures by zone; failovers. An attempt's cost, zone and ending never change once
 * it is closed, so sums over attempts that ended (and started) before a point some minutes back are "settled": summed
 * once and kept per database and question, while each call sums only what came since, an index range. The settled
 * sums are summed again when the count of attempts before the point changed (a lost attempt closed late with an old
 * end, as a new leader closes one) or when the point is hours old. A scrape of 10,000 jobs then reads little more
 * than what changed since the last one (bench/dashboard.bench.ts).
 */
import { Clock, Effect } from "effect"
import { type QueueStoreError, SchedulerSql } from "../store/SchedulerSql.ts"
import { ClosedTotalsRow, CountsRow, decodeRows, FailoverRow, ZoneEventRow } from "./ReadModelRows.ts"
import { select, teamFilter, type TeamScope } from "./ReadModelSql.ts"

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

export interface ZoneEvents {
  readonly events: ReadonlyArray<ZoneEvent>
  readonly failovers: ReadonlyArray<Failover>
}

/** How old the settled point may grow before everything is summed again, and how far back it is set. */
const RESETTLE_MILLIS = 6 * 3_600_000
const SETTLE_LAG_MILLIS = 10 * 60_000

/** Attempts that ended, and that started, before `beforeMillis`: a new or late attempt before the point changes one. */
const countBefore = (beforeMillis: number) =>
  Effect.map(
    select(
      `SELECT (SELECT COUNT(*) FROM attempts WHERE ended_ms < ?) AS closed, (SELECT COUNT(*) FROM attempts WHERE started_ms < ?) AS attempts`,
      [beforeMillis, beforeMillis],
      decodeRows(CountsRow, "count attempts")
    ),
    (rows) => `${rows[0]?.closed ?? 0}/${rows[0]?.attempts ?? 0}`
  )

/**
 * Sums kept per database and question: `sum(true, point)` is the settled part (before the point), `sum(false, point)`
 * the part since; `merge` adds rows with the same labels.
 */
const settledSums = <A>(merge: (rows: ReadonlyArray<A>) => ReadonlyArray<A>) => {
  const byDatabase = new WeakMap<object, Map<string, { readonly beforeMillis: number; readonly version: string; readonly rows: ReadonlyArray<A> }>>()
  return (
    key: string,
    sum: (settled: boolean, beforeMillis: number) => Effect.Effect<ReadonlyArray<A>, QueueStoreError, SchedulerSql>
  ): Effect.Effect<ReadonlyArray<A>, QueueStoreError, SchedulerSql> =>
    Effect.gen(function*() {
      const db = yield* Effect.service(SchedulerSql)
      const nowMillis = yield* Clock.currentTimeMillis
      const entries = byDatabase.get(db) ?? new Map()
      byDatabase.set(db, entries)
      let kept = entries.get(key)
      if (kept === undefined || nowMillis - kept.beforeMillis > RESETTLE_MILLIS || (yield* countBefore(kept.beforeMillis)) !== kept.version) {
        const beforeMillis = nowMillis - SETTLE_LAG_MILLIS
        kept = { beforeMillis, version: yield* countBefore(beforeMillis), rows: yield* sum(true, beforeMillis) }
        if (entries.size >= 64) entries.clear()
        entries.set(key, kept)
      }
      return merge([...kept.rows, ...(yield* sum(false, kept.beforeMillis))])
    })
}

const mergeBy = <A>(key: (row: A) => string, add: (into: A, row: A) => A) => (rows: ReadonlyArray<A>): ReadonlyArray<A> => {
  const merged = new Map<string, A>()
  for (const row of rows) {
    const known = merged.get(key(row))
    merged.set(key(row), known === undefined ? row : add(known, row))
  }
  return [...merged.values()]
}

/** Adds up totals with the same team, engine, purchase option and ending. */
export const mergeTotals = mergeBy<SpendTotal>(
  (row) => [row.team, row.runner, row.purchaseOption, row.exitReason].join("\u0000"),
  (into, row) => ({ ...into, attempts: into.attempts + row.attempts, gpuHours: into.gpuHours + row.gpuHours, costUsd: into.costUsd + row.costUsd })
)
const mergeEvents = mergeBy<ZoneEvent>((row) => [row.team, row.zone, row.kind, row.reason ?? ""].join("\u0000"), (into, row) => ({ ...into, attempts: into.attempts + row.attempts }))
const mergeFailovers = mergeBy<Failover>((row) => [row.team, row.zone, row.movedTo].join("\u0000"), (into, row) => ({ ...into, attempts: into.attempts + row.attempts }))

const scopeKey = (scope: TeamScope): string => (scope === "all" ? "*" : scope.join(","))
const range = (column: string, settled: boolean) => `${column} ${settled ? "<" : ">="} ?`

const keptTotals = settledSums(mergeTotals)

/** Closed attempts summed by team, engine, purchase option and how they ended. */
export const closedTotals = (scope: TeamScope): Effect.Effect<ReadonlyArray<SpendTotal>, QueueStoreError, SchedulerSql> => {
  const team = teamFilter("q.team", scope)
  return keptTotals(`totals:${scopeKey(scope)}`, (settled, beforeMillis) =>
    Effect.map(
      select(
        `SELECT q.team, a.runner, a.purchase_option, a.exit_reason, COUNT(*) AS attempts, SUM(a.cost_usd) AS cost_usd,
           SUM(a.accelerators_per_instance * a.instance_count * (a.ended_ms - a.started_ms)) / 3600000.0 AS gpu_hours
         FROM attempts a JOIN queue q ON q.id = a.job_id WHERE ${range("a.ended_ms", settled)}${team.sql}
         GROUP BY q.team, a.runner, a.purchase_option, a.exit_reason`,
        [beforeMillis, ...team.params],
        decodeRows(ClosedTotalsRow, "sum attempts")
      ),
      (rows) =>
        rows.map((row) => ({
          team: row.team,
          runner: row.runner,
          purchaseOption: row.purchase_option,
          exitReason: row.exit_reason ?? "running",
          attempts: row.attempts,
          gpuHours: row.gpu_hours ?? 0,
          costUsd: row.cost_usd ?? 0
        }))
    ))
}

const keptEvents = settledSums(mergeEvents)
const keptFailovers = settledSums(mergeFailovers)

/**
 * Interruptions and provisioning failures by zone and reason (attempts that ended since `sinceMillis`), and failovers:
 * an attempt that did not complete, after which the job's next attempt ran in another zone.
 */
export const zoneEvents = (sinceMillis: number, scope: TeamScope): Effect.Effect<ZoneEvents, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const team = teamFilter("q.team", scope)
    const key = `${sinceMillis}:${scopeKey(scope)}`
    const events = yield* keptEvents(key, (settled, beforeMillis) =>
      Effect.map(
        select(
          `SELECT q.team, COALESCE(a.availability_zone, a.region) AS zone, a.exit_reason, a.reason, COUNT(*) AS attempts
           FROM attempts a JOIN queue q ON q.id = a.job_id
           WHERE a.exit_reason IN ('interrupted', 'provision-failed') AND a.ended_ms >= ? AND ${range("a.ended_ms", settled)}${team.sql}
           GROUP BY q.team, COALESCE(a.availability_zone, a.region), a.exit_reason, a.reason`,
          [sinceMillis, beforeMillis, ...team.params],
          decodeRows(ZoneEventRow, "count interruptions by zone")
        ),
        (rows) =>
          rows.map((row): ZoneEvent => ({
            team: row.team,
            zone: row.zone,
            kind: row.exit_reason === "interrupted" ? "interruption" : "provision-failure",
            reason: row.reason,
            attempts: row.attempts
          }))
      ))
    // Settled by when the next attempt started: a pair exists from then on.
    const failovers = yield* keptFailovers(key, (settled, beforeMillis) =>
      Effect.map(
        select(
          `SELECT q.team, COALESCE(a.availability_zone, a.region) AS zone, COALESCE(b.availability_zone, b.region) AS moved_to, COUNT(*) AS attempts
           FROM attempts b JOIN attempts a ON a.job_id = b.job_id AND a.sequence = b.sequence - 1 JOIN queue q ON q.id = a.job_id
           WHERE ${range("b.started_ms", settled)} AND a.exit_reason IN ('interrupted', 'provision-failed', 'crashed', 'lost') AND a.ended_ms >= ?
             AND COALESCE(b.availability_zone, b.region) <> COALESCE(a.availability_zone, a.region)${team.sql}
           GROUP BY q.team, COALESCE(a.availability_zone, a.region), COALESCE(b.availability_zone, b.region)`,
          [beforeMillis, sinceMillis, ...team.params],
          decodeRows(FailoverRow, "count failovers by zone")
        ),
        (rows) => rows.map((row): Failover => ({ team: row.team, zone: row.zone, movedTo: row.moved_to, attempts: row.attempts }))
      ))
    return { events, failovers }
  })
