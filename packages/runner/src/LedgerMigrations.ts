/**
 * Versioned schema migrations for the ledger file. Each component (the runner here; `waste` and others
 * with their own lists) owns a numbered list; applied versions are recorded per component in
 * `frugal_migrations`, so components evolve their tables independently in the same SQLite file.
 * A migration is never edited once released: add the next version instead.
 */
import type { DatabaseSync } from "node:sqlite"

export interface Migration {
  readonly version: number
  readonly description: string
  readonly sql: string
  /**
   * The migration rebuilds a table that others reference (SQLite cannot change a CHECK constraint in place): it runs
   * with foreign keys off and is checked with `PRAGMA foreign_key_check` before it commits, as SQLite documents for
   * schema changes ("Making Other Kinds Of Table Schema Changes", sqlite.org/lang_altertable.html).
   */
  readonly rebuildsTables?: boolean
}

export const RUNNER_MIGRATIONS: ReadonlyArray<Migration> = [
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
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        final_step INTEGER,
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
        hourly_price_usd REAL NOT NULL,
        instance_count INTEGER NOT NULL,
        accelerator TEXT,
        accelerators_per_instance REAL NOT NULL,
        interruptions_per_hour REAL NOT NULL,
        checkpoint_every_seconds REAL,
        external_id TEXT,
        pid INTEGER,
        log_path TEXT,
        started_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        ended_ms INTEGER,
        exit_reason TEXT CHECK (exit_reason IN ('completed', 'interrupted', 'crashed', 'lost')),
        exit_code INTEGER,
        exit_detail TEXT,
        resumed_from_step INTEGER,
        last_step INTEGER,
        last_checkpoint_step INTEGER,
        cost_usd REAL,
        UNIQUE (job_id, sequence)
      );
      CREATE INDEX attempts_open ON attempts(job_id) WHERE ended_ms IS NULL;
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        time_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        step INTEGER,
        payload_json TEXT NOT NULL
      );
      CREATE INDEX events_by_job ON events(job_id, id);
      CREATE TABLE calibration (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        accelerator TEXT NOT NULL,
        precision TEXT NOT NULL,
        tokens_per_second_per_gpu REAL NOT NULL,
        mfu REAL,
        steps INTEGER NOT NULL,
        measured_ms INTEGER NOT NULL
      );
      CREATE INDEX calibration_by_key ON calibration(accelerator, precision, measured_ms);
    `
  },
  {
    version: 2,
    description: "attempts that never started (provision-failed) or were cancelled, their reason, pool and transfer cost; the job's policy",
    rebuildsTables: true,
    sql: `
      CREATE TABLE attempts_v2 (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        sequence INTEGER NOT NULL,
        runner TEXT NOT NULL,
        pool TEXT,
        instance_type TEXT NOT NULL,
        region TEXT NOT NULL,
        availability_zone TEXT,
        purchase_option TEXT NOT NULL,
        hourly_price_usd REAL NOT NULL,
        instance_count INTEGER NOT NULL,
        accelerator TEXT,
        accelerators_per_instance REAL NOT NULL,
        interruptions_per_hour REAL NOT NULL,
        checkpoint_every_seconds REAL,
        external_id TEXT,
        pid INTEGER,
        log_path TEXT,
        started_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        ended_ms INTEGER,
        exit_reason TEXT CHECK (exit_reason IN ('completed', 'interrupted', 'crashed', 'lost', 'provision-failed', 'cancelled')),
        exit_code INTEGER,
        exit_detail TEXT,
        reason TEXT,
        cool_down_scope TEXT CHECK (cool_down_scope IN ('pool', 'region')),
        resumed_from_step INTEGER,
        last_step INTEGER,
        last_checkpoint_step INTEGER,
        transfer_cost_usd REAL NOT NULL DEFAULT 0,
        cost_usd REAL,
        UNIQUE (job_id, sequence)
      );
      INSERT INTO attempts_v2 (id, job_id, sequence, runner, pool, instance_type, region, availability_zone, purchase_option,
        hourly_price_usd, instance_count, accelerator, accelerators_per_instance, interruptions_per_hour,
        checkpoint_every_seconds, external_id, pid, log_path, started_ms, last_seen_ms, ended_ms, exit_reason, exit_code,
        exit_detail, reason, resumed_from_step, last_step, last_checkpoint_step, transfer_cost_usd, cost_usd)
      SELECT id, job_id, sequence, runner, NULL, instance_type, region, availability_zone, purchase_option,
        hourly_price_usd, instance_count, accelerator, accelerators_per_instance, interruptions_per_hour,
        checkpoint_every_seconds, external_id, pid, log_path, started_ms, last_seen_ms, ended_ms, exit_reason, exit_code,
        exit_detail, NULL, resumed_from_step, last_step, last_checkpoint_step, 0, cost_usd
      FROM attempts;
      DROP TABLE attempts;
      ALTER TABLE attempts_v2 RENAME TO attempts;
      CREATE INDEX attempts_open ON attempts(job_id) WHERE ended_ms IS NULL;
      ALTER TABLE jobs ADD COLUMN policy_json TEXT;
    `
  },
  {
    version: 3,
    description: "job leases (one supervisor per job at a time) and the workload each job was created from",
    // No foreign key to jobs: a lease is taken before a new job's row exists, so two processes racing to
    // create the same job id are told apart by the lease rather than by a failed INSERT.
    sql: `
      CREATE TABLE job_leases (
        job_id TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        holder_pid INTEGER NOT NULL,
        holder_host TEXT NOT NULL,
        holder_pid_namespace TEXT,
        holder_label TEXT NOT NULL,
        acquired_ms INTEGER NOT NULL,
        heartbeat_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
      );
      ALTER TABLE jobs ADD COLUMN workload_sha256 TEXT;
      ALTER TABLE jobs ADD COLUMN workload_json TEXT;
    `
  }
]

/** Applies the component's pending migrations, each in its own transaction; returns the versions applied. */
export const applyMigrations = (
  db: DatabaseSync,
  component: string,
  migrations: ReadonlyArray<Migration>,
  nowMillis: number
): ReadonlyArray<number> => {
  db.exec(`CREATE TABLE IF NOT EXISTS frugal_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    description TEXT NOT NULL,
    applied_ms INTEGER NOT NULL,
    PRIMARY KEY (component, version)
  )`)
  const applied: Array<number> = []
  const sorted = [...migrations].sort((a, b) => a.version - b.version)
  const isApplied = (version: number) =>
    db.prepare("SELECT 1 FROM frugal_migrations WHERE component = ? AND version = ?").get(component, version) !== undefined
  for (const migration of sorted) {
    if (isApplied(migration.version)) continue
    // `PRAGMA foreign_keys` is a no-op inside a transaction: it is switched around it.
    if (migration.rebuildsTables === true) db.exec("PRAGMA foreign_keys = OFF")
    try {
      // BEGIN IMMEDIATE takes the write lock first, so two processes opening a fresh file do not both migrate.
      db.exec("BEGIN IMMEDIATE")
      try {
        if (!isApplied(migration.version)) {
          db.exec(migration.sql)
          if (migration.rebuildsTables === true) {
            const broken = db.prepare("PRAGMA foreign_key_check").all()
            if (broken.length > 0) throw new Error(`migration ${component} ${migration.version} leaves ${broken.length} broken references`)
          }
          db.prepare("INSERT INTO frugal_migrations (component, version, description, applied_ms) VALUES (?, ?, ?, ?)")
            .run(component, migration.version, migration.description, nowMillis)
          applied.push(migration.version)
        }
        db.exec("COMMIT")
      } catch (error) {
        // SQLite may have rolled back already (a full disk): a second ROLLBACK would hide the real error.
        if (db.isTransaction) db.exec("ROLLBACK")
        throw error
      }
    } finally {
      if (migration.rebuildsTables === true) db.exec("PRAGMA foreign_keys = ON")
    }
  }
  return applied
}
