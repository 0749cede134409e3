/**
 * The ledger: a durable record of every job, attempt, event and dollar, in one SQLite file
 * (`$FRUGAL_HOME/ledger.sqlite`) through Node's built-in `node:sqlite`. WAL mode lets `frugal status`
 * read while a supervisor writes; every multi-row write is one transaction, so a supervisor killed
 * at any instant leaves either the whole write or none of it. A file that fails SQLite's integrity check is
 * refused when opened; a write that fails (a full disk) is rolled back whole and reported as such.
 */
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { type AttemptExit, describeExit, exitRan, exitReason, exitReasonCode } from "./AttemptExit.ts"
import { type CalibrationSample, type MeasuredThroughput, summarizeCalibration } from "./Calibration.ts"
import { defaultLedgerPath } from "./FrugalHome.ts"
import { describeHolder, type JobLease, type JobLeased, jobLeased, type LeaseHolder, LeaseLost } from "./JobLease.ts"
import { dropLease, extendLease, leaseOf, takeLease } from "./LedgerLeases.ts"
import { applyMigrations, type Migration, RUNNER_MIGRATIONS } from "./LedgerMigrations.ts"
import { failureAdvice, failureReason, openLedgerDatabase, transaction as inTransaction } from "./LedgerSqlite.ts"
import { isPostgresLedger, postgresFailureAdvice } from "./postgres/PostgresFailures.ts"
import {
  type AttemptRecord,
  decodeAttempt,
  decodeCalibration,
  decodeEvent,
  decodeJob,
  type EventRecord,
  type JobRecord,
  type JobStatus,
  type LedgerEvent,
  type NewAttempt,
  type NewJob,
  toAttempt,
  toJob
} from "./LedgerRecords.ts"
import { costUsd } from "./Placement.ts"

export class LedgerError extends Schema.TaggedError<LedgerError>()("LedgerError", {
  path: Schema.String,
  operation: Schema.String,
  detail: Schema.String,
  /** What a user can act on: a damaged file, a full disk, a write lock held too long; absent for anything else. */
  reason: Schema.optionalKey(Schema.Literals(["disk-full", "corrupt", "busy"]))
}) {
  override get message(): string {
    const head = `ledger ${this.path}: ${this.operation} failed: ${this.detail}`
    if (this.reason === undefined) return head
    return `${head}\n${isPostgresLedger(this.path) ? postgresFailureAdvice(this.reason) : failureAdvice(this.reason, this.path)}`
  }
}

export class Ledger extends Context.Service<Ledger, {
  readonly path: string
  /** Applies another component's migrations to the same file (e.g. `waste` for its own tables). */
  readonly migrate: (component: string, migrations: ReadonlyArray<Migration>) => Effect.Effect<ReadonlyArray<number>, LedgerError>
  readonly createJob: (job: NewJob) => Effect.Effect<JobRecord, LedgerError>
  readonly job: (id: string) => Effect.Effect<JobRecord | undefined, LedgerError>
  readonly jobs: Effect.Effect<ReadonlyArray<JobRecord>, LedgerError>
  /** Replaces the job's placement policy (ranked placements and settings), kept with the job for `--resume`. */
  readonly setJobPolicy: (id: string, policyJson: string | null) => Effect.Effect<void, LedgerError>
  readonly setJobStatus: (
    id: string,
    status: JobStatus,
    outcome?: { readonly finalStep?: number | null; readonly weightsSha256?: string | null; readonly detail?: string | null }
  ) => Effect.Effect<void, LedgerError>
  /** Opens the job's next attempt (sequence = previous + 1), started now. */
  readonly startAttempt: (attempt: NewAttempt) => Effect.Effect<AttemptRecord, LedgerError>
  /** Records where the engine launched the attempt, so a restarted supervisor can find and stop it. */
  readonly attachProcess: (
    attemptId: string,
    launched: { readonly externalId: string; readonly pid: number | null; readonly logPath: string | null }
  ) => Effect.Effect<void, LedgerError>
  /** Stores one event and marks the attempt seen now (its cost accrues to this instant). */
  readonly recordEvent: (attemptId: string, event: LedgerEvent) => Effect.Effect<void, LedgerError>
  /** Marks the attempt seen now without storing an event: a heartbeat, or a step not kept as an event. */
  readonly touchAttempt: (attemptId: string, step?: number) => Effect.Effect<void, LedgerError>
  /**
   * Closes the attempt now with its exit and final cost: its hours at its placement's price plus `transferCostUsd`
   * (checkpoint data moved between regions); an attempt the engine never started (`ProvisionFailed`) costs nothing.
   */
  readonly finishAttempt: (
    attemptId: string,
    exit: AttemptExit,
    charges?: { readonly transferCostUsd?: number }
  ) => Effect.Effect<AttemptRecord, LedgerError>
  /** Closes every attempt of the job still open as `lost`, charging it up to the time it was last seen. */
  readonly closeOpenAttempts: (jobId: string, detail: string) => Effect.Effect<ReadonlyArray<AttemptRecord>, LedgerError>
  readonly attempts: (jobId: string) => Effect.Effect<ReadonlyArray<AttemptRecord>, LedgerError>
  readonly events: (jobId: string, kinds?: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<EventRecord>, LedgerError>
  readonly recordCalibration: (sample: CalibrationSample) => Effect.Effect<void, LedgerError>
  /** Measured throughput per accelerator and precision, for the planner's `measuredThroughput`. */
  readonly measuredThroughput: Effect.Effect<ReadonlyArray<MeasuredThroughput>, LedgerError>
  /** The job's lease as last written, expired or not (see JobLease.ts); undefined when nobody holds it. */
  readonly lease: (jobId: string) => Effect.Effect<JobLease | undefined, LedgerError>
  /**
   * Takes the job's lease for `holder` until now + `ttlMillis`, with a new random token, in one atomic step: granted
   * when nobody holds it, when the lease held has expired, or when its token is `replacing` (a holder the caller saw
   * is gone); otherwise fails with JobLeased naming the holder. The job need not exist yet.
   */
  readonly acquireLease: (
    jobId: string,
    holder: LeaseHolder,
    options: { readonly ttlMillis: number; readonly replacing?: string | undefined }
  ) => Effect.Effect<JobLease, JobLeased | LedgerError>
  /** A heartbeat: extends the lease to now + `ttlMillis`. LeaseLost when it no longer carries this token. */
  readonly renewLease: (lease: JobLease, ttlMillis: number) => Effect.Effect<JobLease, LeaseLost | LedgerError>
  /** Gives the lease up; a lease that no longer carries this token (taken over) is left alone. */
  readonly releaseLease: (lease: JobLease) => Effect.Effect<void, LedgerError>
}>()("@frugal/runner/Ledger") {
  /** A ledger in the given file (created with its parent directory if missing). */
  static readonly layerFile = (path: string): Layer.Layer<Ledger, LedgerError> => Layer.effect(Ledger, makeLedger(path))

  /** The ledger at `$FRUGAL_HOME/ledger.sqlite` (FRUGAL_HOME defaults to `$XDG_DATA_HOME/frugal` or `~/.local/share/frugal`). */
  static readonly layer: Layer.Layer<Ledger, LedgerError> = Layer.unwrap(
    Effect.sync(() => Ledger.layerFile(defaultLedgerPath(process.env)))
  )
}

const makeLedger = (path: string) =>
  Effect.gen(function*() {
    const fail = (operation: string) => (cause: unknown) => {
      const reason = failureReason(cause)
      return new LedgerError({
        path,
        operation,
        detail: cause instanceof Error ? cause.message : String(cause),
        ...(reason === undefined ? {} : { reason })
      })
    }

    const now = yield* Clock.currentTimeMillis
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => openLedgerDatabase(path, (db) => applyMigrations(db, "runner", RUNNER_MIGRATIONS, now)),
        catch: fail("open")
      }),
      (db) => Effect.sync(() => db.close())
    )

    /** Runs a synchronous database operation, mapping a throw to LedgerError. */
    const use = <A>(operation: string, body: () => A): Effect.Effect<A, LedgerError> =>
      Effect.try({ try: body, catch: fail(operation) })

    const transaction = <A>(body: () => A): A => inTransaction(db, body)

    const attemptById = (id: string): AttemptRecord => {
      const row = db.prepare("SELECT * FROM attempts WHERE id = ?").get(id)
      if (row === undefined) throw new Error(`no attempt ${id}`)
      return toAttempt(decodeAttempt(row))
    }

    const jobById = (id: string): JobRecord | undefined => {
      const row = db.prepare("SELECT * FROM jobs WHERE id = ?").get(id)
      return row === undefined ? undefined : toJob(decodeJob(row))
    }

    const closeAttempt = (attempt: AttemptRecord, exit: AttemptExit, endedAtMillis: number, transferCostUsd = 0): void => {
      const ended = Math.max(attempt.startedAtMillis, endedAtMillis)
      const transfer = exitRan(exit) ? Math.max(0, transferCostUsd) : 0
      db.prepare(
        `UPDATE attempts SET ended_ms = ?, last_seen_ms = MAX(last_seen_ms, ?), exit_reason = ?, exit_code = ?,
           exit_detail = ?, reason = ?, cool_down_scope = ?, transfer_cost_usd = ?, cost_usd = ? WHERE id = ? AND ended_ms IS NULL`
      ).run(
        ended,
        ended,
        exitReason(exit),
        exit._tag === "Crashed" ? exit.code : exit._tag === "Completed" ? 0 : exit._tag === "Interrupted" ? 75 : null,
        describeExit(exit),
        exitReasonCode(exit),
        exit._tag === "ProvisionFailed" ? exit.scope : null,
        transfer,
        exitRan(exit) ? costUsd(attempt.placement, attempt.startedAtMillis, ended) + transfer : 0,
        attempt.id
      )
    }

    return Ledger.of({
      path,
      migrate: (component, migrations) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          use("migrate", () => applyMigrations(db, component, migrations, at))),
      createJob: (job) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          use("createJob", () =>
            transaction(() => {
              db.prepare(
                `INSERT INTO jobs (id, name, status, runner, spec_json, policy_json, workload_sha256, workload_json, created_ms, updated_ms)
                 VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`
              ).run(
                job.id,
                job.name,
                job.runner,
                job.specJson,
                job.policyJson ?? null,
                job.workload?.sha256 ?? null,
                job.workload?.json ?? null,
                at,
                at
              )
              const created = jobById(job.id)
              if (created === undefined) throw new Error(`job ${job.id} vanished after insert`)
              return created
            }))),
      job: (id) => use("job", () => jobById(id)),
      jobs: use("jobs", () =>
        db.prepare("SELECT * FROM jobs ORDER BY created_ms DESC, id").all().map((row) => toJob(decodeJob(row)))),
      setJobPolicy: (id, policyJson) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          use("setJobPolicy", () => {
            db.prepare("UPDATE jobs SET policy_json = ?, updated_ms = ? WHERE id = ?").run(policyJson, at, id)
          })),
      setJobStatus: (id, status, outcome) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          use("setJobStatus", () => {
            db.prepare(
              `UPDATE jobs SET status = ?, updated_ms = ?,
                 final_step = COALESCE(?, final_step), weights_sha256 = COALESCE(?, weights_sha256), detail = ?
               WHERE id = ?`
            ).run(
              status,
              at,
              outcome?.finalStep ?? null,
              outcome?.weightsSha256 ?? null,
              outcome?.detail ?? null,
              id
            )
          })),
      startAttempt: (attempt) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          use("startAttempt", () =>
            transaction(() => {
              const previous = db.prepare("SELECT COALESCE(MAX(sequence), 0) AS n FROM attempts WHERE job_id = ?")
                .get(attempt.jobId)
              const sequence = Schema.decodeUnknownSync(Schema.Struct({ n: Schema.Number }))(previous).n + 1
              const p = attempt.placement
              db.prepare(
                `INSERT INTO attempts (id, job_id, sequence, runner, pool, instance_type, region, availability_zone,
                   purchase_option, hourly_price_usd, instance_count, accelerator, accelerators_per_instance,
                   interruptions_per_hour, checkpoint_every_seconds, started_ms, last_seen_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
              ).run(
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
                at,
                at
              )
              db.prepare("UPDATE jobs SET status = 'running', updated_ms = ? WHERE id = ?").run(at, attempt.jobId)
              return attemptById(attempt.id)
            }))),
      attachProcess: (attemptId, launched) =>
        use("attachProcess", () => {
          db.prepare("UPDATE attempts SET external_id = ?, pid = ?, log_path = ? WHERE id = ?")
            .run(launched.externalId, launched.pid, launched.logPath, attemptId)
        }),
      recordEvent: (attemptId, event) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          use("recordEvent", () =>
            transaction(() => {
              const attempt = attemptById(attemptId)
              db.prepare(
                "INSERT INTO events (job_id, attempt_id, time_ms, kind, step, payload_json) VALUES (?, ?, ?, ?, ?, ?)"
              ).run(attempt.jobId, attemptId, at, event.kind, event.step, JSON.stringify(event.payload))
              db.prepare(
                `UPDATE attempts SET last_seen_ms = MAX(last_seen_ms, ?),
                   last_step = CASE WHEN ? IS NULL THEN last_step ELSE MAX(COALESCE(last_step, 0), ?) END,
                   last_checkpoint_step = CASE WHEN ? = 'checkpoint' THEN ? ELSE last_checkpoint_step END,
                   resumed_from_step = CASE WHEN ? = 'started' THEN ? ELSE resumed_from_step END
                 WHERE id = ?`
              ).run(
                at,
                event.step,
                event.step,
                event.kind,
                event.step,
                event.kind,
                resumedFrom(event),
                attemptId
              )
            }))),
      touchAttempt: (attemptId, step) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          use("touchAttempt", () => {
            db.prepare(
              `UPDATE attempts SET last_seen_ms = MAX(last_seen_ms, ?),
                 last_step = CASE WHEN ? IS NULL THEN last_step ELSE MAX(COALESCE(last_step, 0), ?) END
               WHERE id = ? AND ended_ms IS NULL`
            ).run(at, step ?? null, step ?? null, attemptId)
          })),
      finishAttempt: (attemptId, exit, charges) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          use("finishAttempt", () =>
            transaction(() => {
              const attempt = attemptById(attemptId)
              closeAttempt(attempt, exit, exit._tag === "Lost" ? attempt.lastSeenAtMillis : at, charges?.transferCostUsd)
              return attemptById(attemptId)
            }))),
      closeOpenAttempts: (jobId, detail) =>
        use("closeOpenAttempts", () =>
          transaction(() => {
            const open = db.prepare("SELECT * FROM attempts WHERE job_id = ? AND ended_ms IS NULL").all(jobId)
              .map((row) => toAttempt(decodeAttempt(row)))
            for (const attempt of open) closeAttempt(attempt, { _tag: "Lost", detail }, attempt.lastSeenAtMillis)
            return open.map((attempt) => attemptById(attempt.id))
          })),
      attempts: (jobId) =>
        use("attempts", () =>
          db.prepare("SELECT * FROM attempts WHERE job_id = ? ORDER BY sequence").all(jobId)
            .map((row) => toAttempt(decodeAttempt(row)))),
      events: (jobId, kinds) =>
        use("events", () =>
          db.prepare("SELECT * FROM events WHERE job_id = ? ORDER BY id").all(jobId)
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
            .filter((event) => kinds === undefined || kinds.includes(event.kind))),
      recordCalibration: (sample) =>
        use("recordCalibration", () => {
          db.prepare(
            `INSERT INTO calibration (job_id, accelerator, precision, tokens_per_second_per_gpu, mfu, steps, measured_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)`
          ).run(
            sample.jobId,
            sample.accelerator,
            sample.precision,
            sample.tokensPerSecondPerGpu,
            sample.mfu,
            sample.steps,
            sample.measuredAtMillis
          )
        }),
      lease: (jobId) => use("lease", () => leaseOf(db, jobId)),
      acquireLease: (jobId, holder, options) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          Effect.flatMap(
            use("acquireLease", () => transaction(() => takeLease(db, jobId, holder, { ...options, nowMillis: at }))),
            (result) => result._tag === "Acquired" ? Effect.succeed(result.lease) : Effect.fail(jobLeased(result.lease, at))
          )),
      renewLease: (lease, ttlMillis) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          Effect.flatMap(
            use("renewLease", () => extendLease(db, lease, at, ttlMillis)),
            (current) =>
              current !== undefined && current.token === lease.token
                ? Effect.succeed(current)
                : Effect.fail(new LeaseLost({ jobId: lease.jobId, detail: current === undefined ? "the lease was released" : `taken over by ${describeHolder(current.holder)}` }))
          )),
      releaseLease: (lease) => use("releaseLease", () => dropLease(db, lease)),
      measuredThroughput: use("measuredThroughput", () =>
        summarizeCalibration(
          db.prepare("SELECT * FROM calibration ORDER BY measured_ms").all().map((row) => {
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
          })
        ))
    })
  })

/** The `resumedFromStep` of a `started` event, when it carries one. */
const resumedFrom = (event: LedgerEvent): number | null => {
  const payload = event.payload
  if (event.kind !== "started" || typeof payload !== "object" || payload === null) return null
  const value: unknown = Reflect.get(payload, "resumedFromStep")
  return typeof value === "number" ? value : null
}
