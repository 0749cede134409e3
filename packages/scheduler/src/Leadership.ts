/**
 * One scheduler at a time. Every `frugal server` replica serves the API; only the leader runs the scheduling loop.
 *
 * - PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection of the leader's own. PostgreSQL
 *   releases it the moment that connection closes, which a killed process's kernel does at once, so a follower
 *   polling every `pollMillis` takes over within about that long. A leader that loses its connection has lost the
 *   lock: it stops (the process exits) rather than schedule beside the new leader.
 * - SQLite: one machine's file, so one scheduling process: a lease row names the holder (host, pid) and is renewed
 *   every `renewMillis`; a restarted server takes it at once when the holder's process is gone from this host, or
 *   when the lease expired.
 */
import { LocalFailure } from "@frugal/core"
import { Postgres } from "@frugal/runner/postgres"
import { Clock, Context, Effect, Layer, Schema, type Scope } from "effect"
import { hostname } from "node:os"
import { SchedulerSql } from "./store/SchedulerSql.ts"

/** The lock key every replica of one ledger contends for (an arbitrary constant: one scheduler per database). */
export const SCHEDULER_LOCK_KEY = 7_424_010_012

export class Leadership extends Context.Service<Leadership, {
  /** Waits until this process leads; it leads until the scope closes. The effect returned fails when leadership is lost. */
  readonly acquire: Effect.Effect<Effect.Effect<never, LocalFailure>, LocalFailure, Scope.Scope>
}>()("@frugal/scheduler/Leadership") {
  static readonly postgres = (options: { readonly pollMillis?: number } = {}): Layer.Layer<Leadership, never, Postgres> =>
    Layer.effect(
      Leadership,
      Effect.map(Effect.service(Postgres), (db) =>
        Leadership.of({
          acquire: Effect.gen(function*() {
            const client = yield* Effect.mapError(db.dedicated, (error) => new LocalFailure({ operation: "connect for the scheduler lock", detail: error.detail }))
            const tryLock = Effect.tryPromise({
              try: () => client.query("SELECT pg_try_advisory_lock($1) AS held", [SCHEDULER_LOCK_KEY]),
              catch: (cause) => new LocalFailure({ operation: "take the scheduler lock", detail: cause instanceof Error ? cause.message : String(cause) })
            }).pipe(Effect.map((result) => Schema.decodeUnknownSync(Schema.Struct({ held: Schema.Boolean }))(result.rows[0]).held))
            while (!(yield* tryLock)) yield* Effect.sleep(options.pollMillis ?? 500)
            return Effect.callback<never, LocalFailure>((resume) => {
              const lost = () => resume(Effect.fail(new LocalFailure({ operation: "hold the scheduler lock", detail: "the connection holding it closed" })))
              client.once("end", lost)
              client.once("error", lost)
            })
          })
        }))
    )

  static readonly sqlite = (options: { readonly renewMillis?: number; readonly leaseMillis?: number } = {}): Layer.Layer<Leadership, never, SchedulerSql> =>
    Layer.effect(
      Leadership,
      Effect.map(Effect.service(SchedulerSql), (sql) => {
        const renewMillis = options.renewMillis ?? 2_000
        const leaseMillis = options.leaseMillis ?? 15_000
        const host = hostname()
        const holder = `${host}:${process.pid}`
        const LeaseRow = Schema.Struct({ holder: Schema.String, pid: Schema.Number, host: Schema.String, expires_ms: Schema.Number })
        const claim = Effect.flatMap(Clock.currentTimeMillis, (now) =>
          sql.transaction((tx) =>
            Effect.gen(function*() {
              const rows = yield* tx.all("SELECT holder, pid, host, expires_ms FROM scheduler_leader WHERE name = 'scheduler'")
              const current = rows[0] === undefined ? undefined : Schema.decodeUnknownSync(LeaseRow)(rows[0])
              const free = current === undefined || current.holder === holder || current.expires_ms < now ||
                (current.host === host && !processAlive(current.pid))
              if (!free) return current.holder
              yield* tx.all(
                `INSERT INTO scheduler_leader (name, holder, pid, host, expires_ms) VALUES ('scheduler', ?, ?, ?, ?)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, host = excluded.host, expires_ms = excluded.expires_ms`,
                [holder, process.pid, host, now + leaseMillis]
              )
              return null
            })
          ).pipe(Effect.mapError((error) => new LocalFailure({ operation: "take the scheduler lease", detail: error.detail }))))
        return Leadership.of({
          acquire: Effect.gen(function*() {
            while ((yield* claim) !== null) yield* Effect.sleep(renewMillis)
            yield* Effect.addFinalizer(() =>
              Effect.ignore(sql.all("DELETE FROM scheduler_leader WHERE name = 'scheduler' AND holder = ?", [holder]))
            )
            return Effect.forever(
              Effect.flatMap(Effect.sleep(renewMillis), () => claim).pipe(
                Effect.flatMap((other) =>
                  other === null ? Effect.void : Effect.fail(new LocalFailure({ operation: "hold the scheduler lease", detail: `${other} took it over` })))
              )
            )
          })
        })
      })
    )
}

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return typeof error === "object" && error !== null && Reflect.get(error, "code") === "EPERM"
  }
}
