/**
 * How the read model queries: one SQL text for both ledgers through the scheduler's SQL service, rows decoded with
 * their Schema, and the reader's teams as a filter.
 */
import { Effect } from "effect"
import { SchedulerSql, type QueueStoreError, type SqlValue } from "../store/SchedulerSql.ts"

/** Whose jobs a reader may see: every team's (the admins, a scrape) or the named teams'. */
export type TeamScope = "all" | ReadonlyArray<string>

export const teamFilter = (column: string, scope: TeamScope): { readonly sql: string; readonly params: ReadonlyArray<SqlValue> } =>
  scope === "all"
    ? { sql: "", params: [] }
    : scope.length === 0
    ? { sql: ` AND 1 = 0`, params: [] }
    : { sql: ` AND ${column} IN (${scope.map(() => "?").join(", ")})`, params: scope }

export const select = <A>(sql: string, params: ReadonlyArray<SqlValue>, decode: (rows: ReadonlyArray<unknown>) => Effect.Effect<A, QueueStoreError>) =>
  Effect.flatMap(Effect.service(SchedulerSql), (db) => Effect.flatMap(db.all(sql, params), decode))
