/**
 * Holding a job's lease for as long as a scope lasts: take it (over a holder on this host whose process is gone, at
 * once; over any other only once its lease has expired), renew it every heartbeat, release it when the scope closes.
 * A renewal that fails (the lease was taken over while this process was not heard from, or the ledger cannot be
 * written) completes `lost`, which the holder races its work against so that it stops.
 */
import { Clock, Deferred, Effect, type Scope } from "effect"
import { readlinkSync } from "node:fs"
import { hostname } from "node:os"
import { holderIsGone, type JobLease, type JobLeased, type LeaseHolder, type LeaseLost } from "./JobLease.ts"
import type { Ledger, LedgerError } from "./Ledger.ts"

export interface HeldLease {
  /** The lease as taken. */
  readonly lease: JobLease
  /** The lease it replaced: an expired one, or one whose holder was seen to be gone; null when none was held. */
  readonly replaced: JobLease | null
  /** Fails once a renewal fails; never succeeds. */
  readonly lost: Effect.Effect<never, LeaseLost | LedgerError>
  /** False once a renewal has failed: the job may belong to another process now, so write nothing more for it. */
  readonly holding: Effect.Effect<boolean>
}

export interface LeaseOptions {
  /** What holds it, for the refusal another process prints: `frugal run`, `frugal run --resume`. */
  readonly label: string
  readonly renewEveryMillis: number
  readonly ttlMillis: number
}

/** This process as a lease holder. */
export const thisProcess = (label: string): LeaseHolder => ({
  pid: process.pid,
  host: hostname(),
  pidNamespace: pidNamespace(),
  label
})

const pidNamespace = (): string | null => {
  try {
    return readlinkSync("/proc/self/ns/pid")
  } catch {
    return null
  }
}

/** Whether a process with this id exists (one owned by another user counts: signalling it is refused, not absent). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return typeof error === "object" && error !== null && "code" in error && error.code === "EPERM"
  }
}

export const holdJobLease = (
  ledger: Ledger["Service"],
  jobId: string,
  options: LeaseOptions
): Effect.Effect<HeldLease, JobLeased | LedgerError, Scope.Scope> =>
  Effect.gen(function*() {
    const holder = thisProcess(options.label)
    const current = yield* ledger.lease(jobId)
    const now = yield* Clock.currentTimeMillis
    const gone = current !== undefined && current.expiresAtMillis > now && holderIsGone(current.holder, holder, isAlive)
    const lease = yield* Effect.acquireRelease(
      ledger.acquireLease(jobId, holder, { ttlMillis: options.ttlMillis, replacing: gone ? current.token : undefined }),
      (taken) => Effect.ignore(ledger.releaseLease(taken))
    )
    const lost = yield* Deferred.make<never, LeaseLost | LedgerError>()
    let holding = true
    yield* Effect.gen(function*() {
      while (true) {
        yield* Effect.sleep(options.renewEveryMillis)
        yield* ledger.renewLease(lease, options.ttlMillis)
      }
    }).pipe(
      Effect.catch((error) =>
        Effect.suspend(() => {
          holding = false
          return Deferred.fail(lost, error)
        })
      ),
      Effect.forkScoped
    )
    return {
      lease,
      replaced: current === undefined || (current.expiresAtMillis > now && !gone) ? null : current,
      lost: Deferred.await(lost),
      holding: Effect.sync(() => holding)
    }
  })
