/**
 * The runner's ledger tables in PostgreSQL: the same numbered versions as `RUNNER_MIGRATIONS` (SQLite), written in
 * PostgreSQL's terms (BIGINT milliseconds, DOUBLE PRECISION money, BIGSERIAL ids, CHECK constraints changed in
 * place instead of SQLite's table rebuild). A test holds the two lists to the same versions, so a runner migration
 * added for SQLite without its PostgreSQL form fails CI rather than a replica.
 *
 * Other components (`waste`, `scheduler`) keep one list for both databases, written in the portable subset of
 * SQL; `translateMigrationSql` maps SQLite's type names onto PostgreSQL's when the ledger is PostgreSQL.
 */
import type { Migration } from "../LedgerMigrations.ts"

export const RUNNER_POSTGRES_MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    description: "jobs, attempts, events, calibration",
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
        runner TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        final_step BIGINT,
        weights_sha256 TEXT,
        detail TEXT
      );
      CREATE TABLE attempts (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        sequence INTEGER NOT NULL,
        runner TEXT NOT NULL,
        instance_type TEXT NOT NULL,
        region TEXT NOT NULL,
        availability_zone TEXT,
        purchase_option TEXT NOT NULL,
        hourly_price_usd DOUBLE PRECISION NOT NULL,
        instance_count INTEGER NOT NULL,
        accelerator TEXT,
        accelerators_per_instance DOUBLE PRECISION NOT NULL,
        interruptions_per_hour DOUBLE PRECISION NOT NULL,
        checkpoint_every_seconds DOUBLE PRECISION,
        external_id TEXT,
        pid INTEGER,
        log_path TEXT,
        started_ms BIGINT NOT NULL,
        last_seen_ms BIGINT NOT NULL,
        ended_ms BIGINT,
        exit_reason TEXT CONSTRAINT attempts_exit_reason_check CHECK (exit_reason IN ('completed', 'interrupted', 'crashed', 'lost')),
        exit_code INTEGER,
        exit_detail TEXT,
        resumed_from_step BIGINT,
        last_step BIGINT,
        last_checkpoint_step BIGINT,
        cost_usd DOUBLE PRECISION,
        UNIQUE (job_id, sequence)
      );
      CREATE INDEX attempts_open ON attempts(job_id) WHERE ended_ms IS NULL;
      CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        time_ms BIGINT NOT NULL,
        kind TEXT NOT NULL,
        step BIGINT,
        payload_json TEXT NOT NULL
      );
      CREATE INDEX events_by_job ON events(job_id, id);
      CREATE TABLE calibration (
        id BIGSERIAL PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        accelerator TEXT NOT NULL,
        precision TEXT NOT NULL,
        tokens_per_second_per_gpu DOUBLE PRECISION NOT NULL,
        mfu DOUBLE PRECISION,
        steps INTEGER NOT NULL,
        measured_ms BIGINT NOT NULL
      );
      CREATE INDEX calibration_by_key ON calibration(accelerator, precision, measured_ms);
    `
  },
  {
    version: 2,
    description: "attempts that never started (provision-failed) or were cancelled, their reason, pool and transfer cost; the job's policy",
    sql: `
      ALTER TABLE attempts ADD COLUMN pool TEXT;
      ALTER TABLE attempts ADD COLUMN reason TEXT;
      ALTER TABLE attempts ADD COLUMN cool_down_scope TEXT CHECK (cool_down_scope IN ('pool', 'region'));
      ALTER TABLE attempts ADD COLUMN transfer_cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0;
      ALTER TABLE attempts DROP CONSTRAINT attempts_exit_reason_check;
      ALTER TABLE attempts ADD CONSTRAINT attempts_exit_reason_check
        CHECK (exit_reason IN ('completed', 'interrupted', 'crashed', 'lost', 'provision-failed', 'cancelled'));
      ALTER TABLE jobs ADD COLUMN policy_json TEXT;
    `
  },
  {
    version: 3,
    description: "job leases (one supervisor per job at a time) and the workload each job was created from",
    // No foreign key to jobs, as in SQLite: a new job's lease is taken before its row exists.
    sql: `
      CREATE TABLE job_leases (
        job_id TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        holder_pid INTEGER NOT NULL,
        holder_host TEXT NOT NULL,
        holder_pid_namespace TEXT,
        holder_label TEXT NOT NULL,
        acquired_ms BIGINT NOT NULL,
        heartbeat_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL
      );
      ALTER TABLE jobs ADD COLUMN workload_sha256 TEXT;
      ALTER TABLE jobs ADD COLUMN workload_json TEXT;
    `
  }
]

/**
 * A component's migration written for SQLite, in PostgreSQL's terms: `INTEGER PRIMARY KEY AUTOINCREMENT` becomes
 * `BIGSERIAL PRIMARY KEY`, `INTEGER` becomes `BIGINT` (SQLite's integers are 64-bit; epoch milliseconds overflow
 * PostgreSQL's 32-bit INTEGER) and `REAL` becomes `DOUBLE PRECISION` (PostgreSQL's REAL is 32-bit).
 */
export const translateMigrationSql = (sql: string): string =>
  sql
    .replace(/\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b/gi, "BIGSERIAL PRIMARY KEY")
    .replace(/\bINTEGER\b/gi, "BIGINT")
    .replace(/\bREAL\b/gi, "DOUBLE PRECISION")
