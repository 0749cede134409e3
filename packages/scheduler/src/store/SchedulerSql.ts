/**
 * The scheduler's SQL, one text for both ledgers: the SQLite file (node:sqlite, beside the runner's tables) and
 * PostgreSQL (the connection the PostgreSQL ledger opened). Statements use `?` placeholders (rewritten to `$1…`
 * for PostgreSQL) and the SQL both accept (`ON CONFLICT`, `RETURNING`, BIGINT, DOUBLE PRECISION).
 *
 * A transaction commits every statement of its body or none. On SQLite the body runs synchronously inside
 * `BEGIN IMMEDIATE … COMMIT` (node:sqlite is synchronous: a transaction left open across an await would block the
 * runner's own connection to the same file), so a body is statements only.
 */
import { Context, Effect, Exit, Layer, Schema } from "effect"
import { DatabaseSync, type SQLInputValue } from "node:sqlite"
import { Postgres } from "@frugal/runner/postgres"

export class QueueStoreError extends Schema.TaggedError<QueueStoreError>()("QueueStoreError", {
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `scheduler queue: ${this.operation} failed: ${this.detail}`
  }
}

export type SqlValue = string | number | null

export interface SqlStatements {
  /** The rows a statement returns (none for most writes; `RETURNING` makes a write return what it changed). */
  readonly all: (sql: string, params?: ReadonlyArray<SqlValue>) => Effect.Effect<ReadonlyArray<unknown>, QueueStoreError>
}

export class SchedulerSql extends Context.Service<SchedulerSql, SqlStatements & {
  readonly dialect: "sqlite" | "postgres"
  readonly transaction: <A>(body: (tx: SqlStatements) => Effect.Effect<A, QueueStoreError>) => Effect.Effect<A, QueueStoreError>
}>()("@frugal/scheduler/SchedulerSql") {
  /** The ledger's SQLite file at `path` (the runner's migrations have created it). */
  static readonly sqlite = (path: string): Layer.Layer<SchedulerSql, QueueStoreError> =>
    Layer.effect(
      SchedulerSql,
      Effect.gen(function*() {
        const db = yield* Effect.acquireRelease(
          Effect.try({
            try: () => new DatabaseSync(path, { timeout: 10_000, enableForeignKeyConstraints: true }),
            catch: (cause) => new QueueStoreError({ operation: `open ${path}`, detail: errorText(cause) })
          }),
          (db) => Effect.sync(() => db.close())
        )
        const all: SqlStatements["all"] = (sql, params = []) =>
          Effect.try({
            try: () => db.prepare(sql).all(...params.map((value): SQLInputValue => value)),
            catch: (cause) => new QueueStoreError({ operation: firstWords(sql), detail: errorText(cause) })
          })
        const transaction = <A>(body: (tx: SqlStatements) => Effect.Effect<A, QueueStoreError>) =>
          Effect.suspend(() => {
            try {
              db.exec("BEGIN IMMEDIATE")
            } catch (cause) {
              return Effect.fail(new QueueStoreError({ operation: "BEGIN", detail: errorText(cause) }))
            }
            const exit = Effect.runSyncExit(body({ all }))
            try {
              db.exec(Exit.isSuccess(exit) ? "COMMIT" : "ROLLBACK")
            } catch (cause) {
              return Effect.fail(new QueueStoreError({ operation: "COMMIT", detail: errorText(cause) }))
            }
            return exit
          })
        return SchedulerSql.of({ dialect: "sqlite", all, transaction })
      })
    )

  /** The PostgreSQL database the ledger uses. */
  static readonly postgres: Layer.Layer<SchedulerSql, never, Postgres> = Layer.effect(
    SchedulerSql,
    Effect.map(Effect.service(Postgres), (db) => {
      const toPostgres = (sql: string) => {
        let n = 0
        return sql.replace(/\?/g, () => `$${++n}`)
      }
      const mapError = (sql: string) => (error: { readonly detail: string }) => new QueueStoreError({ operation: firstWords(sql), detail: error.detail })
      const allOn = (query: (text: string, params?: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<unknown>, { readonly detail: string }>): SqlStatements["all"] =>
      (sql, params = []) => Effect.mapError(query(toPostgres(sql), params), mapError(sql))
      return SchedulerSql.of({
        dialect: "postgres",
        all: allOn(db.query),
        transaction: (body) =>
          db.transaction((tx) => body({ all: allOn(tx.query) })).pipe(
            Effect.mapError((error) => (error._tag === "QueueStoreError" ? error : new QueueStoreError({ operation: "transaction", detail: error.detail })))
          )
      })
    })
  )
}

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
const firstWords = (sql: string): string => sql.trim().split(/\s+/).slice(0, 3).join(" ")
