/**
 * The ledger in PostgreSQL (`--ledger postgres://…`): the same `Ledger` service as the SQLite file, method for
 * method and with the same semantics (the conformance suite in packages/runner/test runs one set of cases against
 * both), so several `frugal server` replicas can share it. Every multi-row write is one transaction; an attempt's
 * sequence is taken under a row lock on its job, so two writers never number two attempts alike.
 */
import { Clock, Effect, Layer, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { type AttemptExit, describeExit, exitRan, exitReason, exitReasonCode } from "../AttemptExit.ts"
import { summarizeCalibration } from "../Calibration.ts"
import { describeHolder, jobLeased, LeaseLost } from "../JobLease.ts"
import { Ledger, LedgerError } from "../Ledger.ts"
import type { Migration } from "../LedgerMigrations.ts"
import {
  type AttemptRecord,
  decodeAttempt,
  decodeCalibration,
  decodeEvent,
  decodeJob,
  decodeLease,
  type JobRecord,
  type LedgerEvent,
  toAttempt,
  toJob,
  toLease
} from "../LedgerRecords.ts"
import { costUsd } from "../Placement.ts"
import { RUNNER_POSTGRES_MIGRATIONS, translateMigrationSql } from "./LedgerPostgresMigrations.ts"
import { makePostgres, Postgres, type PostgresError, type PostgresQuery } from "./Postgres.ts"
import { postgresFailureReason } from "./PostgresFailures.ts"

/** Serialises migrations across replicas opening the same database at once (an arbitrary constant key). */
const MIGRATION_LOCK_KEY = 7_424_010_001

const decodeCount = Schema.decodeUnknownSync(Schema.Struct({ n: Schema.Number }))

/** Applies a component's pending migrations, each in its own transaction under the migration lock. */
export const applyPostgresMigrations = (
  db: Postgres["Service"],
  component: string,
  migrations: ReadonlyArray<Migration>,
  nowMillis: number,
  translate: (sql: string) => string
): Effect.Effect<ReadonlyArray<number>, PostgresError> =>
  Effect.gen(function*() {
    yield* db.query(`CREATE TABLE IF NOT EXISTS frugal_migrations (
      component TEXT NOT NULL,
      version INTEGER NOT NULL,
      description TEXT NOT NULL,
      applied_ms BIGINT NOT NULL,
      PRIMARY KEY (component, version)
    )`).pipe(Effect.catchTag("PostgresError", (error) =>
      // Two replicas creating the table at the same instant: one wins, the other sees it exist.
      error.code === "23505" || error.code === "42P07" ? Effect.succeed([]) : Effect.fail(error)))
    const applied: Array<number> = []
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      const done = yield* db.transaction((tx) =>
        Effect.gen(function*() {
          yield* tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY])
          const found = yield* tx.query("SELECT 1 FROM frugal_migrations WHERE component = $1 AND version = $2", [component, migration.version])
          if (found.length > 0) return false
          yield* tx.query(translate(migration.sql))
          yield* tx.query(
            "INSERT INTO frugal_migrations (component, version, description, applied_ms) VALUES ($1, $2, $3, $4)",
            [component, migration.version, migration.description, nowMillis]
          )
          return true
        })
      )
      if (done) applied.push(migration.version)
    }
    return applied
  })

export const makeLedgerPostgres = Effect.gen(function*() {
  const db = yield* Postgres
  const path = db.display
  const fail = (operation: string) => (error: PostgresError) => {
    const reason = postgresFailureReason(error.code)
    return new LedgerError({ path, operation, detail: error.detail, ...(reason === undefined ? {} : { reason }) })
  }
  const now = yield* Clock.currentTimeMillis
  yield* applyPostgresMigrations(db, "runner", RUNNER_POSTGRES_MIGRATIONS, now, (sql) => sql).pipe(Effect.mapError(fail("open")))

  const use = <A>(operation: string, body: Effect.Effect<A, PostgresError>): Effect.Effect<A, LedgerError> =>
    Effect.mapError(body, fail(operation))
  /** A transaction; a defect inside it (a row that vanished) is a LedgerError like SQLite's throw. */
  const inTransaction = <A>(operation: string, body: (tx: PostgresQuery) => Effect.Effect<A, PostgresError>): Effect.Effect<A, LedgerError> =>
    db.transaction(body).pipe(
      Effect.mapError(fail(operation)),
      Effect.catchDefect((defect) =>
        Effect.fail(new LedgerError({ path, operation, detail: defect instanceof Error ? defect.message : String(defect) })))
    )
  const decoding = <A>(operation: string, decode: () => A): Effect.Effect<A, LedgerError> =>
    Effect.try({ try: decode, catch: (cause) => new LedgerError({ path, operation, detail: cause instanceof Error ? cause.message : String(cause) }) })

  const attemptById = (q: PostgresQuery, id: string) =>
    Effect.flatMap(q.query("SELECT * FROM attempts WHERE id = $1", [id]), (rows) =>
      rows[0] === undefined
        ? Effect.die(new Error(`no attempt ${id}`))
        : Effect.sync(() => toAttempt(decodeAttempt(rows[0]))))

  const jobById = (q: PostgresQuery, id: string) =>
    Effect.map(q.query("SELECT * FROM jobs WHERE id = $1", [id]), (rows): JobRecord | undefined =>
      rows[0] === undefined ? undefined : toJob(decodeJob(rows[0])))

  const leaseOf = (jobId: string) =>
    Effect.flatMap(use("lease", db.query("SELECT * FROM job_leases WHERE job_id = $1", [jobId])), (rows) =>
      decoding("lease", () => (rows[0] === undefined ? undefined : toLease(decodeLease(rows[0])))))

  /**
   * Takes the lease in one statement: the insert wins when no lease exists; on a conflict PostgreSQL locks the row
   * and updates it only when the lease held has expired or carries the `replacing` token. Two takers at once are
   * serialised on the row (or on the key while both insert), so exactly one gets it; a taker that got nothing reads
   * the holder to name it. No row back and no holder either: released in between, so it tries again.
   */
  const takeLease = (jobId: string, holder: Parameters<Ledger["Service"]["acquireLease"]>[1], ttlMillis: number, replacing: string | undefined, at: number) =>
    use(
      "acquireLease",
      db.query(
        `INSERT INTO job_leases (job_id, token, holder_pid, holder_host, holder_pid_namespace, holder_label,
           acquired_ms, heartbeat_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
         ON CONFLICT (job_id) DO UPDATE SET token = excluded.token, holder_pid = excluded.holder_pid,
           holder_host = excluded.holder_host, holder_pid_namespace = excluded.holder_pid_namespace,
           holder_label = excluded.holder_label, acquired_ms = excluded.acquired_ms,
           heartbeat_ms = excluded.heartbeat_ms, expires_ms = excluded.expires_ms
         WHERE job_leases.expires_ms <= $7 OR job_leases.token = $9
         RETURNING *`,
        [jobId, randomBytes(16).toString("hex"), holder.pid, holder.host, holder.pidNamespace, holder.label, at, at + ttlMillis, replacing ?? null]
      )
    ).pipe(Effect.flatMap((rows) => decoding("acquireLease", () => (rows[0] === undefined ? undefined : toLease(decodeLease(rows[0]))))))

  const closeAttempt = (q: PostgresQuery, attempt: AttemptRecord, exit: AttemptExit, endedAtMillis: number, transferCostUsd = 0) => {
    const ended = Math.max(attempt.startedAtMillis, endedAtMillis)
    const transfer = exitRan(exit) ? Math.max(0, transferCostUsd) : 0
    return q.query(
      `UPDATE attempts SET ended_ms = $1, last_seen_ms = GREATEST(last_seen_ms, $1), exit_reason = $2, exit_code = $3,
         exit_detail = $4, reason = $5, cool_down_scope = $6, transfer_cost_usd = $7, cost_usd = $8 WHERE id = $9 AND ended_ms IS NULL`,
      [
        ended,
        exitReason(exit),
        exit._tag === "Crashed" ? exit.code : exit._tag === "Completed" ? 0 : exit._tag === "Interrupted" ? 75 : null,
        describeExit(exit),
        exitReasonCode(exit),
        exit._tag === "ProvisionFailed" ? exit.scope : null,
        transfer,
        exitRan(exit) ? costUsd(attempt.placement, attempt.startedAtMillis, ended) + transfer : 0,
        attempt.id
      ]
    )
  }

  return Ledger.of({
    path,
    migrate: (component, migrations) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        use("migrate", applyPostgresMigrations(db, component, migrations, at, translateMigrationSql))),
    createJob: (job) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        inTransaction("createJob", (tx) =>
          Effect.gen(function*() {
            yield* tx.query(
              `INSERT INTO jobs (id, name, status, runner, spec_json, policy_json, workload_sha256, workload_json, created_ms, updated_ms)
               VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $8)`,
              [job.id, job.name, job.runner, job.specJson, job.policyJson ?? null, job.workload?.sha256 ?? null, job.workload?.json ?? null, at]
            )
            const created = yield* jobById(tx, job.id)
            if (created === undefined) return yield* Effect.die(new Error(`job ${job.id} vanished after insert`))
            return created
          }))),
    job: (id) => use("job", jobById(db, id)),
    jobs: Effect.flatMap(use("jobs", db.query("SELECT * FROM jobs ORDER BY created_ms DESC, id")), (rows) =>
      decoding("jobs", () => rows.map((row) => toJob(decodeJob(row))))),
    setJobPolicy: (id, policyJson) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        use("setJobPolicy", Effect.asVoid(db.query("UPDATE jobs SET policy_json = $1, updated_ms = $2 WHERE id = $3", [policyJson, at, id])))),
    setJobStatus: (id, status, outcome) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        use(
          "setJobStatus",
          Effect.asVoid(db.query(
            `UPDATE jobs SET status = $1, updated_ms = $2, final_step = COALESCE($3, final_step),
               weights_sha256 = COALESCE($4, weights_sha256), detail = $5 WHERE id = $6`,
            [status, at, outcome?.finalStep ?? null, outcome?.weightsSha256 ?? null, outcome?.detail ?? null, id]
          ))
        )),
    startAttempt: (attempt) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        inTransaction("startAttempt", (tx) =>
          Effect.gen(function*() {
            // The job's row lock orders concurrent openers of the same job's attempts.
            const locked = yield* tx.query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE", [attempt.jobId])
            if (locked.length === 0) {
              return yield* Effect.die(new Error(`attempt ${attempt.id}: no job ${attempt.jobId} (FOREIGN KEY constraint failed)`))
            }
            const previous = yield* tx.query("SELECT COALESCE(MAX(sequence), 0) AS n FROM attempts WHERE job_id = $1", [attempt.jobId])
            const sequence = decodeCount(previous[0]).n + 1
            const p = attempt.placement
            yield* tx.query(
              `INSERT INTO attempts (id, job_id, sequence, runner, pool, instance_type, region, availability_zone,
                 purchase_option, hourly_price_usd, instance_count, accelerator, accelerators_per_instance,
                 interruptions_per_hour, checkpoint_every_seconds, started_ms, last_seen_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)`,
              [
                attempt.id,
                attempt.jobId,
                sequence,
                attempt.runner,
                p.pool ?? null,
                p.instanceType,
                p.region,
                p.availabilityZone,
                p.purchaseOption,
                p.hourlyPriceUsd,
                p.instanceCount,
                p.accelerator,
                p.acceleratorsPerInstance,
                p.interruptionsPerHour,
                attempt.checkpointEverySeconds,
                at
              ]
            )
            yield* tx.query("UPDATE jobs SET status = 'running', updated_ms = $1 WHERE id = $2", [at, attempt.jobId])
            return yield* attemptById(tx, attempt.id)
          }))),
    attachProcess: (attemptId, launched) =>
      use(
        "attachProcess",
        Effect.asVoid(db.query("UPDATE attempts SET external_id = $1, pid = $2, log_path = $3 WHERE id = $4", [
          launched.externalId,
          launched.pid,
          launched.logPath,
          attemptId
        ]))
      ),
    recordEvent: (attemptId, event) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        inTransaction("recordEvent", (tx) =>
          Effect.gen(function*() {
            const attempt = yield* attemptById(tx, attemptId)
            yield* tx.query(
              "INSERT INTO events (job_id, attempt_id, time_ms, kind, step, payload_json) VALUES ($1, $2, $3, $4, $5, $6)",
              [attempt.jobId, attemptId, at, event.kind, event.step, JSON.stringify(event.payload)]
            )
            yield* tx.query(
              `UPDATE attempts SET last_seen_ms = GREATEST(last_seen_ms, $1),
                 last_step = CASE WHEN $2::bigint IS NULL THEN last_step ELSE GREATEST(COALESCE(last_step, 0), $2::bigint) END,
                 last_checkpoint_step = CASE WHEN $3::text = 'checkpoint' THEN $2::bigint ELSE last_checkpoint_step END,
                 resumed_from_step = CASE WHEN $3::text = 'started' THEN $4::bigint ELSE resumed_from_step END
               WHERE id = $5`,
              [at, event.step, event.kind, resumedFrom(event), attemptId]
            )
          }))),
    touchAttempt: (attemptId, step) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        use(
          "touchAttempt",
          Effect.asVoid(db.query(
            `UPDATE attempts SET last_seen_ms = GREATEST(last_seen_ms, $1),
               last_step = CASE WHEN $2::bigint IS NULL THEN last_step ELSE GREATEST(COALESCE(last_step, 0), $2::bigint) END
             WHERE id = $3 AND ended_ms IS NULL`,
            [at, step ?? null, attemptId]
          ))
        )),
    finishAttempt: (attemptId, exit, charges) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        inTransaction("finishAttempt", (tx) =>
          Effect.gen(function*() {
            const attempt = yield* attemptById(tx, attemptId)
            yield* closeAttempt(tx, attempt, exit, exit._tag === "Lost" ? attempt.lastSeenAtMillis : at, charges?.transferCostUsd)
            return yield* attemptById(tx, attemptId)
          }))),
    closeOpenAttempts: (jobId, detail) =>
      inTransaction("closeOpenAttempts", (tx) =>
        Effect.gen(function*() {
          const open = (yield* tx.query("SELECT * FROM attempts WHERE job_id = $1 AND ended_ms IS NULL ORDER BY sequence FOR UPDATE", [jobId]))
            .map((row) => toAttempt(decodeAttempt(row)))
          for (const attempt of open) yield* closeAttempt(tx, attempt, { _tag: "Lost", detail }, attempt.lastSeenAtMillis)
          return yield* Effect.forEach(open, (attempt) => attemptById(tx, attempt.id))
        })),
    attempts: (jobId) =>
      Effect.flatMap(use("attempts", db.query("SELECT * FROM attempts WHERE job_id = $1 ORDER BY sequence", [jobId])), (rows) =>
        decoding("attempts", () => rows.map((row) => toAttempt(decodeAttempt(row))))),
    events: (jobId, kinds) =>
      Effect.flatMap(use("events", db.query("SELECT * FROM events WHERE job_id = $1 ORDER BY id", [jobId])), (rows) =>
        decoding("events", () =>
          rows
            .map((row) => {
              const event = decodeEvent(row)
              return {
                id: event.id,
                jobId: event.job_id,
                attemptId: event.attempt_id,
                timeMillis: event.time_ms,
                kind: event.kind,
                step: event.step,
                payloadJson: event.payload_json
              }
            })
            .filter((event) => kinds === undefined || kinds.includes(event.kind)))),
    recordCalibration: (sample) =>
      use(
        "recordCalibration",
        Effect.asVoid(db.query(
          `INSERT INTO calibration (job_id, accelerator, precision, tokens_per_second_per_gpu, mfu, steps, measured_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [sample.jobId, sample.accelerator, sample.precision, sample.tokensPerSecondPerGpu, sample.mfu, sample.steps, sample.measuredAtMillis]
        ))
      ),
    lease: leaseOf,
    acquireLease: (jobId, holder, options) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        Effect.gen(function*() {
          for (let tries = 0; tries < 5; tries++) {
            const taken = yield* takeLease(jobId, holder, options.ttlMillis, options.replacing, at)
            if (taken !== undefined) return taken
            const held = yield* leaseOf(jobId)
            if (held !== undefined) return yield* Effect.fail(jobLeased(held, at))
          }
          return yield* new LedgerError({ path, operation: "acquireLease", detail: `the lease of job ${jobId} kept changing hands; try again`, reason: "busy" })
        })),
    renewLease: (lease, ttlMillis) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        Effect.gen(function*() {
          const rows = yield* use(
            "renewLease",
            db.query("UPDATE job_leases SET heartbeat_ms = $1, expires_ms = $2 WHERE job_id = $3 AND token = $4 RETURNING *", [
              at,
              at + ttlMillis,
              lease.jobId,
              lease.token
            ])
          )
          if (rows[0] !== undefined) return yield* decoding("renewLease", () => toLease(decodeLease(rows[0])))
          const current = yield* leaseOf(lease.jobId)
          return yield* new LeaseLost({
            jobId: lease.jobId,
            detail: current === undefined ? "the lease was released" : `taken over by ${describeHolder(current.holder)}`
          })
        })),
    releaseLease: (lease) =>
      use("releaseLease", Effect.asVoid(db.query("DELETE FROM job_leases WHERE job_id = $1 AND token = $2", [lease.jobId, lease.token]))),
    measuredThroughput: Effect.flatMap(use("measuredThroughput", db.query("SELECT * FROM calibration ORDER BY measured_ms")), (rows) =>
      decoding("measuredThroughput", () =>
        summarizeCalibration(rows.map((row) => {
          const c = decodeCalibration(row)
          return {
            jobId: c.job_id,
            accelerator: c.accelerator,
            precision: c.precision,
            tokensPerSecondPerGpu: c.tokens_per_second_per_gpu,
            mfu: c.mfu,
            steps: c.steps,
            measuredAtMillis: c.measured_ms
          }
        }))))
  })
})

/** The `resumedFromStep` of a `started` event, when it carries one. */
const resumedFrom = (event: LedgerEvent): number | null => {
  const payload = event.payload
  if (event.kind !== "started" || typeof payload !== "object" || payload === null) return null
  const value: unknown = Reflect.get(payload, "resumedFromStep")
  return typeof value === "number" ? value : null
}

/** The ledger in the PostgreSQL database at `url` (its tables created if missing). */
export const layerPostgres = (url: string): Layer.Layer<Ledger | Postgres, LedgerError> =>
  Layer.effect(Ledger, makeLedgerPostgres).pipe(
    Layer.provideMerge(Layer.effect(
      Postgres,
      Effect.mapError(makePostgres(url), (error) => new LedgerError({ path: error.database, operation: "open", detail: error.detail }))
    ))
  )
