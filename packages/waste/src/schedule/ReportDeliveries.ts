/**
 * Which report periods were delivered where: the `report_deliveries` table in the ledger's SQLite file,
 * created by waste's own migration (applied through `Ledger.migrate`), read and written with `node:sqlite`.
 * A row is written `pending` before a delivery is tried, so neither a crash nor a restart loses it.
 */
import { LocalFailure } from "@frugal/core"
import { Ledger, type Migration } from "@frugal/runner"
import { Context, Effect, Layer, Schema } from "effect"
import { DatabaseSync } from "node:sqlite"
import type { Period } from "../CostData.ts"

export const WASTE_MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    description: "report deliveries",
    sql: `
      CREATE TABLE report_deliveries (
        destination TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_ms INTEGER,
        PRIMARY KEY (destination, period_start)
      );
    `
  },
  {
    version: 2,
    description: "the period each delivered report covered",
    // A report covers the period its data covers (files given offline cover their own), not always the one due.
    sql: `
      ALTER TABLE report_deliveries ADD COLUMN reported_start TEXT;
      ALTER TABLE report_deliveries ADD COLUMN reported_end TEXT;
    `
  }
]

const DeliveryRow = Schema.Struct({
  destination: Schema.String,
  period_start: Schema.String,
  period_end: Schema.String,
  status: Schema.Literals(["pending", "delivered", "failed"]),
  attempts: Schema.Number,
  last_error: Schema.NullOr(Schema.String),
  delivered_ms: Schema.NullOr(Schema.Number),
  reported_start: Schema.NullOr(Schema.String),
  reported_end: Schema.NullOr(Schema.String)
})
const decodeRows = Schema.decodeUnknownSync(Schema.Array(DeliveryRow))

export interface Delivery {
  readonly destination: string
  readonly period: Period
  readonly status: "pending" | "delivered" | "failed"
  readonly attempts: number
  readonly lastError: string | null
  readonly deliveredAtMillis: number | null
  /** The period the delivered report covered (its data's); null until delivered. */
  readonly reported: Period | null
}

export class ReportDeliveries extends Context.Service<ReportDeliveries, {
  /** Records that `period` is due at `destination` (no-op if already known). */
  readonly due: (destination: string, period: Period) => Effect.Effect<void, LocalFailure>
  /** Due and not yet delivered, oldest first. */
  readonly undelivered: Effect.Effect<ReadonlyArray<Delivery>, LocalFailure>
  /** End of the newest period known for a destination, delivered or not; null when none. */
  readonly latestPeriodEnd: (destination: string) => Effect.Effect<string | null, LocalFailure>
  /** Records `period` delivered to `destination`, by a report that covered `reported`. */
  readonly delivered: (destination: string, period: Period, atMillis: number, reported: Period) => Effect.Effect<void, LocalFailure>
  readonly failed: (destination: string, period: Period, error: string) => Effect.Effect<void, LocalFailure>
  readonly all: Effect.Effect<ReadonlyArray<Delivery>, LocalFailure>
}>()("@frugal/waste/ReportDeliveries") {
  /** The deliveries table in the ledger file at `path` (created, with the ledger's own tables, if missing). */
  static readonly layerFile = (path: string): Layer.Layer<ReportDeliveries, LocalFailure> =>
    Layer.effect(
      ReportDeliveries,
      Effect.gen(function*() {
        yield* Ledger.use((ledger) => ledger.migrate("waste", WASTE_MIGRATIONS)).pipe(
          Effect.provide(Ledger.layerFile(path)),
          Effect.mapError((error) => new LocalFailure({ operation: `open the ledger ${path} (${error.operation})`, detail: error.detail }))
        )
        const db = yield* Effect.acquireRelease(
          Effect.try({
            try: () => {
              const db = new DatabaseSync(path)
              db.exec("PRAGMA busy_timeout = 5000")
              return db
            },
            catch: (error) => failure("open", error)
          }),
          (db) => Effect.sync(() => db.close())
        )
        const sql = <A>(operation: string, run: () => A) => Effect.try({ try: run, catch: (error) => failure(operation, error) })
        const rows = (query: string, ...params: Array<string>) =>
          sql("read deliveries", () => decodeRows(db.prepare(query).all(...params)).map(toDelivery))
        return ReportDeliveries.of({
          due: (destination, period) =>
            sql("record due delivery", () => {
              db.prepare(
                "INSERT OR IGNORE INTO report_deliveries (destination, period_start, period_end, status) VALUES (?, ?, ?, 'pending')"
              ).run(destination, period.start, period.end)
            }),
          undelivered: rows("SELECT * FROM report_deliveries WHERE status != 'delivered' ORDER BY period_start, destination"),
          latestPeriodEnd: (destination) =>
            rows("SELECT * FROM report_deliveries WHERE destination = ? ORDER BY period_end DESC LIMIT 1", destination).pipe(
              Effect.map((found) => found[0]?.period.end ?? null)
            ),
          delivered: (destination, period, atMillis, reported) =>
            sql("record delivery", () => {
              db.prepare(
                "UPDATE report_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_ms = ?, last_error = NULL, " +
                  "reported_start = ?, reported_end = ? WHERE destination = ? AND period_start = ?"
              ).run(atMillis, reported.start, reported.end, destination, period.start)
            }),
          failed: (destination, period, error) =>
            sql("record failed delivery", () => {
              db.prepare(
                "UPDATE report_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ? " +
                  "WHERE destination = ? AND period_start = ?"
              ).run(error, destination, period.start)
            }),
          all: rows("SELECT * FROM report_deliveries ORDER BY period_start, destination")
        })
      })
    )
}

const toDelivery = (row: typeof DeliveryRow.Type): Delivery => ({
  destination: row.destination,
  period: { start: row.period_start, end: row.period_end },
  status: row.status,
  attempts: row.attempts,
  lastError: row.last_error,
  deliveredAtMillis: row.delivered_ms,
  reported: row.reported_start === null || row.reported_end === null ? null : { start: row.reported_start, end: row.reported_end }
})

const failure = (operation: string, error: unknown) =>
  new LocalFailure({ operation: `${operation} in the ledger`, detail: error instanceof Error ? error.message : String(error) })
