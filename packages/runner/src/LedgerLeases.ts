/**
 * The SQL of job leases (JobLease.ts) in the SQLite ledger, each a synchronous step the Ledger runs inside its own
 * error mapping; taking a lease runs inside a write transaction, so reading the holder and replacing it is atomic.
 */
import { randomBytes } from "node:crypto"
import type { DatabaseSync } from "node:sqlite"
import type { JobLease, LeaseHolder } from "./JobLease.ts"
import { decodeLease, toLease } from "./LedgerRecords.ts"

export const leaseOf = (db: DatabaseSync, jobId: string): JobLease | undefined => {
  const row = db.prepare("SELECT * FROM job_leases WHERE job_id = ?").get(jobId)
  return row === undefined ? undefined : toLease(decodeLease(row))
}

/** Writes a new lease for `holder` unless a live one with another token than `replacing` is held (returned then). */
export const takeLease = (
  db: DatabaseSync,
  jobId: string,
  holder: LeaseHolder,
  options: { readonly ttlMillis: number; readonly replacing?: string | undefined; readonly nowMillis: number }
): { readonly _tag: "Acquired" | "Held"; readonly lease: JobLease } => {
  const held = leaseOf(db, jobId)
  if (held !== undefined && held.expiresAtMillis > options.nowMillis && held.token !== options.replacing) {
    return { _tag: "Held", lease: held }
  }
  const at = options.nowMillis
  db.prepare(
    `INSERT INTO job_leases (job_id, token, holder_pid, holder_host, holder_pid_namespace, holder_label,
       acquired_ms, heartbeat_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (job_id) DO UPDATE SET token = excluded.token, holder_pid = excluded.holder_pid,
       holder_host = excluded.holder_host, holder_pid_namespace = excluded.holder_pid_namespace,
       holder_label = excluded.holder_label, acquired_ms = excluded.acquired_ms,
       heartbeat_ms = excluded.heartbeat_ms, expires_ms = excluded.expires_ms`
  ).run(jobId, randomBytes(16).toString("hex"), holder.pid, holder.host, holder.pidNamespace, holder.label, at, at, at + options.ttlMillis)
  const taken = leaseOf(db, jobId)
  if (taken === undefined) throw new Error(`the lease of job ${jobId} vanished after it was written`)
  return { _tag: "Acquired", lease: taken }
}

/** A heartbeat at `nowMillis` for `lease` (when it still carries its token); returns the lease now held, if any. */
export const extendLease = (db: DatabaseSync, lease: JobLease, nowMillis: number, ttlMillis: number): JobLease | undefined => {
  db.prepare("UPDATE job_leases SET heartbeat_ms = ?, expires_ms = ? WHERE job_id = ? AND token = ?")
    .run(nowMillis, nowMillis + ttlMillis, lease.jobId, lease.token)
  return leaseOf(db, lease.jobId)
}

export const dropLease = (db: DatabaseSync, lease: JobLease): void => {
  db.prepare("DELETE FROM job_leases WHERE job_id = ? AND token = ?").run(lease.jobId, lease.token)
}
