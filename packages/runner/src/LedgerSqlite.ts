/**
 * The SQLite file under the ledger: opening it (integrity check first, then WAL and the migrations), one write
 * transaction, and what a failure means to a user (a damaged file, a full disk, a lock held too long).
 */
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync } from "node:sqlite"

/** The failures a user can act on, told apart by SQLite's primary result code. */
export type LedgerFailureReason = "disk-full" | "corrupt" | "busy"

// Primary result codes (sqlite.org/rescode.html); node:sqlite puts the extended code in `errcode`.
const SQLITE_BUSY = 5
const SQLITE_CORRUPT = 11
const SQLITE_FULL = 13
const SQLITE_NOTADB = 26

/** The integrity check found damage; nothing was written to the file. */
export class LedgerDamaged extends Error {}

export const failureReason = (cause: unknown): LedgerFailureReason | undefined => {
  if (cause instanceof LedgerDamaged) return "corrupt"
  if (typeof cause === "object" && cause !== null && "code" in cause && cause.code === "ENOSPC") return "disk-full"
  const code: unknown = typeof cause === "object" && cause !== null ? Reflect.get(cause, "errcode") : undefined
  if (typeof code !== "number") return undefined
  switch (code & 0xff) {
    case SQLITE_FULL:
      return "disk-full"
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "corrupt"
    case SQLITE_BUSY:
      return "busy"
    default:
      return undefined
  }
}

/** What to do about each failure, for the end of the error message. */
export const failureAdvice = (reason: LedgerFailureReason, path: string): string => {
  switch (reason) {
    case "corrupt":
      return `the file is damaged and frugal will not write to it. Keep it (mv ${path} ${path}.damaged) and restore a ` +
        `backup, or recover what SQLite can (sqlite3 ${path}.damaged .recover | sqlite3 ${path}); without a file ` +
        "there, frugal starts a new, empty ledger"
    case "disk-full":
      return `the disk holding ${dirname(path)} is full; the write was rolled back whole. Free space, then continue ` +
        "the job with frugal run --resume JOB (frugal status lists the jobs)"
    case "busy":
      return "another process held the ledger's write lock for longer than 10 s; try again"
  }
}

/**
 * Opens (creating it and its directory when missing) and checks the ledger file: `PRAGMA quick_check` before
 * anything is written, so a damaged file is refused rather than written further; then WAL mode and `migrate`.
 */
export const openLedgerDatabase = (path: string, migrate: (db: DatabaseSync) => void): DatabaseSync => {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true })
  const db = new DatabaseSync(path, { timeout: 10_000, enableForeignKeyConstraints: true })
  try {
    const problems = integrityProblems(db)
    if (problems.length !== 1 || problems[0] !== "ok") {
      const shown = problems.slice(0, 3).join("; ")
      throw new LedgerDamaged(`SQLite's integrity check failed: ${shown}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ""}`)
    }
    db.exec("PRAGMA journal_mode = WAL")
    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commit).
    db.exec("PRAGMA synchronous = NORMAL")
    migrate(db)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * What `PRAGMA quick_check` says (`["ok"]` for a sound file): every b-tree page well formed, in time linear in the
 * file's size, without the slower cross-check of indexes against tables. A page too damaged for the check itself to
 * read is one problem more.
 */
const integrityProblems = (db: DatabaseSync): ReadonlyArray<string> => {
  try {
    return db.prepare("PRAGMA quick_check").all().map((row) => String(Object.values(row)[0]))
  } catch (error) {
    if (failureReason(error) !== "corrupt") throw error
    return [error instanceof Error ? error.message : String(error)]
  }
}

/**
 * Runs `body` in one write transaction. SQLite rolls a transaction back by itself on some failures (a full disk, an
 * I/O error): a ROLLBACK then fails with "cannot rollback - no transaction is active" and would hide the failure
 * that matters, so it is issued only while a transaction is still open, and the first error is the one thrown.
 */
export const transaction = <A>(db: DatabaseSync, body: () => A): A => {
  db.exec("BEGIN IMMEDIATE")
  try {
    const result = body()
    db.exec("COMMIT")
    return result
  } catch (error) {
    if (db.isTransaction) {
      try {
        db.exec("ROLLBACK")
      } catch {
        // the error that made us roll back is the one to report
      }
    }
    throw error
  }
}
