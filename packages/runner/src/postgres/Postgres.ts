/**
 * One PostgreSQL database (`postgres://user:password@host:port/db`) through `pg`'s connection pool: queries,
 * transactions on one pooled connection, and dedicated connections for session state (an advisory lock, LISTEN).
 * BIGINT columns (epoch milliseconds) come back as numbers. The password never reaches a message: `display` is
 * the URL without it. Opening retries the first connection with backoff (a server that is still starting).
 */
import { Context, Duration, Effect, Layer, Schedule, Schema, type Scope } from "effect"
import pg from "pg"

export class PostgresError extends Schema.TaggedError<PostgresError>()("PostgresError", {
  /** The database, without its password. */
  database: Schema.String,
  operation: Schema.String,
  detail: Schema.String,
  /** PostgreSQL's SQLSTATE, when the server answered (`23505` unique violation, `57P01` shutdown). */
  code: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    return `PostgreSQL ${this.database}: ${this.operation} failed: ${this.detail}`
  }
}

export type Row = Readonly<Record<string, unknown>>

/** What a transaction body (or the pool) can run: `$1`-style parameters. */
export interface PostgresQuery {
  readonly query: (text: string, params?: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Row>, PostgresError>
}

export class Postgres extends Context.Service<Postgres, PostgresQuery & {
  /** The URL without its password, for messages and `ledger.path`. */
  readonly display: string
  /** Runs `body` in one transaction on one connection: COMMIT when it succeeds, ROLLBACK when it fails. */
  readonly transaction: <A, E>(body: (tx: PostgresQuery) => Effect.Effect<A, E>) => Effect.Effect<A, E | PostgresError>
  /** A connection of its own (not from the pool), closed with the scope: for advisory locks and LISTEN. */
  readonly dedicated: Effect.Effect<pg.Client, PostgresError, Scope.Scope>
}>()("@frugal/runner/Postgres") {
  static readonly layer = (url: string): Layer.Layer<Postgres, PostgresError> => Layer.effect(Postgres, makePostgres(url))
}

/** The URL without its password (and without a query string, which may carry one). */
export const displayUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    parsed.password = ""
    parsed.search = ""
    return parsed.toString()
  } catch {
    return "postgres://(unparseable URL)"
  }
}

const INT8_OID = 20

/** BIGINT as a JavaScript number: epoch milliseconds and steps stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary" ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser
}

const errorCode = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const code: unknown = Reflect.get(cause, "code")
  return typeof code === "string" ? code : undefined
}

export const makePostgres = (url: string) =>
  Effect.gen(function*() {
    const display = displayUrl(url)
    const fail = (operation: string) => (cause: unknown) => {
      const code = errorCode(cause)
      const detail = (cause instanceof Error ? cause.message : String(cause)).split(url).join(display)
      return new PostgresError({ database: display, operation, detail, ...(code === undefined ? {} : { code }) })
    }
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const created = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 10_000, types })
        // An idle connection that the server drops must not crash the process; the next query reconnects.
        created.on("error", () => undefined)
        return created
      }),
      (created) => Effect.promise(() => created.end().catch(() => undefined))
    )
    const checkout = Effect.tryPromise({ try: () => pool.connect(), catch: fail("connect") }).pipe(
      Effect.retry({ schedule: Schedule.exponential(Duration.millis(100)), times: 5 })
    )
    yield* Effect.scoped(Effect.acquireRelease(checkout, (client) => Effect.sync(() => client.release())))

    const queryOn = (client: pg.Pool | pg.PoolClient): PostgresQuery["query"] => (text, params = []) =>
      Effect.tryPromise({
        try: (signal) => {
          if (signal.aborted) return Promise.reject(new Error("interrupted"))
          return client.query(text, [...params]).then((result) => result.rows as ReadonlyArray<Row>)
        },
        catch: fail(text.trim().split(/\s+/).slice(0, 3).join(" "))
      })

    const transaction = <A, E>(body: (tx: PostgresQuery) => Effect.Effect<A, E>): Effect.Effect<A, E | PostgresError> =>
      Effect.acquireUseRelease(
        checkout,
        (client) =>
          Effect.gen(function*() {
            const tx: PostgresQuery = { query: queryOn(client) }
            yield* tx.query("BEGIN")
            const result = yield* Effect.exit(body(tx))
            if (result._tag === "Success") {
              yield* tx.query("COMMIT")
              return result.value
            }
            yield* Effect.ignore(tx.query("ROLLBACK"))
            return yield* result
          }),
        (client, exit) => Effect.sync(() => client.release(exit._tag === "Failure" ? true : undefined))
      )

    const dedicated = Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const client = new pg.Client({ connectionString: url, types, connectionTimeoutMillis: 10_000 })
          client.on("error", () => undefined)
          await client.connect()
          return client
        },
        catch: fail("connect")
      }),
      (client) => Effect.promise(() => client.end().catch(() => undefined))
    )

    return Postgres.of({ display, query: queryOn(pool), transaction, dedicated })
  })
