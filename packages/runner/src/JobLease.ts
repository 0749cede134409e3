/**
 * One supervisor per job at a time: the job's lease in the ledger. Whoever runs a job (`frugal run`, `--resume`, a
 * scheduler's supervisor) takes its lease first and holds it to the end; a second process is refused with the holder
 * named (`JobLeased`), so two trainers never share a checkpoint directory and no attempt is billed twice.
 *
 * A lease names its holder (process id, host, pid namespace, what it is), carries a random token and an expiry. The
 * holder renews it with its heartbeat and releases it when it stops. A holder that dies without releasing is outlived
 * by its lease only until the expiry (`DEFAULT_LEASE_SECONDS` after its last heartbeat), or not at all when the next
 * process runs on the same host and can see the holder's process is gone.
 *
 * The types, the refusal and the pure rules live here; the ledger stores leases (Ledger: `lease`, `acquireLease`,
 * `renewLease`, `releaseLease`) and JobLeaseKeeper holds one for the length of a supervision.
 */
import { Schema } from "effect"

export interface LeaseHolder {
  readonly pid: number
  /** The machine's host name. */
  readonly host: string
  /** The process's pid namespace (Linux `/proc/self/ns/pid`), so containers sharing a host name are told apart. */
  readonly pidNamespace: string | null
  /** What holds it, for people: `frugal run`, `frugal run --resume`, a server. */
  readonly label: string
}

export interface JobLease {
  readonly jobId: string
  /** Random and new at every acquisition: renewals and the release name it, so a holder never touches a successor's. */
  readonly token: string
  readonly holder: LeaseHolder
  readonly acquiredAtMillis: number
  readonly heartbeatAtMillis: number
  /** From this instant another process may take the lease (the last heartbeat plus the time to live). */
  readonly expiresAtMillis: number
}

/** How long a lease outlives its holder's last heartbeat: three heartbeats of 15 s. */
export const DEFAULT_LEASE_SECONDS = 45

/** Another process holds the job's lease: nothing was started. Exit code 2. */
export class JobLeased extends Schema.TaggedError<JobLeased>()("JobLeased", {
  jobId: Schema.String,
  holderPid: Schema.Number,
  holderHost: Schema.String,
  holderLabel: Schema.String,
  acquiredAtMillis: Schema.Number,
  heartbeatAtMillis: Schema.Number,
  expiresAtMillis: Schema.Number,
  /** When the lease was found held, to say how long ago its holder was heard from. */
  checkedAtMillis: Schema.Number
}) {
  override get message(): string {
    const ago = Math.max(0, Math.round((this.checkedAtMillis - this.heartbeatAtMillis) / 1000))
    return [
      `job ${this.jobId} is already being run by pid ${this.holderPid} on ${this.holderHost} (${this.holderLabel}, since ` +
      `${isoSeconds(this.acquiredAtMillis)}, last heartbeat ${ago} s ago); nothing was started.`,
      `Wait for it to end, or stop it (kill -INT ${this.holderPid} on ${this.holderHost}) and continue with frugal run --resume ${this.jobId}.`,
      `If that process is gone, its lease expires at ${isoSeconds(this.expiresAtMillis)} and --resume takes over then.`
    ].join("\n")
  }
}

/** The lease this process held was taken over (it was not heard from for longer than the lease lasts). Exit 1. */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  jobId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `job ${this.jobId}: this process no longer holds the job's lease (${this.detail}); it stopped its attempt and left the job to the new holder`
  }
}

export const jobLeased = (lease: JobLease, checkedAtMillis: number): JobLeased =>
  new JobLeased({
    jobId: lease.jobId,
    holderPid: lease.holder.pid,
    holderHost: lease.holder.host,
    holderLabel: lease.holder.label,
    acquiredAtMillis: lease.acquiredAtMillis,
    heartbeatAtMillis: lease.heartbeatAtMillis,
    expiresAtMillis: lease.expiresAtMillis,
    checkedAtMillis
  })

/** Who holds a lease, in a few words: `pid 4242 on build-7 (frugal run)`. */
export const describeHolder = (holder: LeaseHolder): string => `pid ${holder.pid} on ${holder.host} (${holder.label})`

/**
 * Whether `holder` is known to be gone from where `here` runs: the same host and pid namespace (so its process id
 * means the same process), not this very process, and no process with that id alive. Anything else is unknown and
 * the lease is left to expire. Pure: `isAlive` answers for a process id.
 */
export const holderIsGone = (
  holder: LeaseHolder,
  here: Pick<LeaseHolder, "pid" | "host" | "pidNamespace">,
  isAlive: (pid: number) => boolean
): boolean =>
  holder.host === here.host &&
  holder.pidNamespace !== null &&
  holder.pidNamespace === here.pidNamespace &&
  holder.pid !== here.pid &&
  !isAlive(holder.pid)

/** The time to live of a lease renewed every `heartbeatSeconds`: at least three heartbeats, and at least the default. */
export const leaseSecondsFor = (heartbeatSeconds: number): number => Math.max(DEFAULT_LEASE_SECONDS, 3 * heartbeatSeconds)

const isoSeconds = (millis: number): string => new Date(millis).toISOString().replace(/\.\d+Z$/, "Z")
