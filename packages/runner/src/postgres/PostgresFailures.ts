/**
 * What a PostgreSQL failure means to a user, told apart by SQLSTATE (postgresql.org/docs/15/errcodes-appendix.html),
 * as `LedgerError.reason` does for the SQLite file: a damaged database, a full disk, a server too busy to answer.
 * Pure and free of `pg`, so the ledger's error message can use it without loading the client.
 */
import type { LedgerFailureReason } from "../LedgerSqlite.ts"

export const postgresFailureReason = (sqlState: string | undefined): LedgerFailureReason | undefined => {
  switch (sqlState) {
    case "53100": // disk_full
      return "disk-full"
    case "XX001": // data_corrupted
    case "XX002": // index_corrupted
      return "corrupt"
    case "55P03": // lock_not_available
    case "40P01": // deadlock_detected
    case "53300": // too_many_connections
      return "busy"
    default:
      return undefined
  }
}

/** The ledger's path is a PostgreSQL URL (its display form, without the password). */
export const isPostgresLedger = (path: string): boolean => /^postgres(ql)?:\/\//i.test(path)

export const postgresFailureAdvice = (reason: LedgerFailureReason): string => {
  switch (reason) {
    case "corrupt":
      return "PostgreSQL reports damaged data in the ledger's database; restore it from a backup (REINDEX repairs a " +
        "damaged index) before running more jobs on it"
    case "disk-full":
      return "the PostgreSQL server's disk is full; the write was rolled back whole. Free space on the database " +
        "server, then continue the job with frugal run --resume JOB (frugal status lists the jobs)"
    case "busy":
      return "the PostgreSQL server could not take the ledger's write (a lock held too long, or no connection free); try again"
  }
}
