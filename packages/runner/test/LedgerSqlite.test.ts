import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { Ledger } from "../src/index.ts"
import { failureReason, transaction } from "../src/LedgerSqlite.ts"

const freshDir = () => mkdtempSync(join(tmpdir(), "frugal-ledger-sqlite-"))

describe("the ledger's SQLite file", () => {
  it("reports a write that fills the database as a full disk, not as a failed ROLLBACK, and keeps what was there", () => {
    // SQLite's max_page_count makes the database full at a size of our choosing: the same SQLITE_FULL a full disk gives.
    const db = new DatabaseSync(join(freshDir(), "full.sqlite"))
    db.exec("CREATE TABLE t (x TEXT)")
    db.prepare("INSERT INTO t VALUES (?)").run("kept")
    const pages = Number(db.prepare("PRAGMA page_count").get()?.["page_count"])
    db.exec(`PRAGMA max_page_count = ${pages + 1}`)
    let thrown: unknown
    try {
      transaction(db, () => {
        for (let i = 0; i < 100; i++) db.prepare("INSERT INTO t VALUES (?)").run("x".repeat(2000))
      })
    } catch (error) {
      thrown = error
    }
    assert.instanceOf(thrown, Error)
    assert.strictEqual(thrown instanceof Error ? thrown.message : "", "database or disk is full")
    assert.strictEqual(failureReason(thrown), "disk-full")
    assert.isFalse(db.isTransaction)
    assert.deepStrictEqual(db.prepare("SELECT x FROM t").all().map((row) => row["x"]), ["kept"])
    db.close()
  })

  it.effect("is refused when it fails the integrity check, saying what to do", () =>
    Effect.gen(function*() {
      const path = join(freshDir(), "ledger.sqlite")
      yield* Effect.scoped(Layer.build(Ledger.layerFile(path)))
      const db = new DatabaseSync(path)
      const pageSize = Number(db.prepare("PRAGMA page_size").get()?.["page_size"])
      const root = Number(db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'jobs'").get()?.["rootpage"])
      db.close()
      const handle = openSync(path, "r+")
      writeSync(handle, Buffer.alloc(32, 0xff), 0, 32, (root - 1) * pageSize)
      closeSync(handle)

      const error = yield* Effect.flip(Effect.scoped(Layer.build(Ledger.layerFile(path))))
      assert.strictEqual(error.reason, "corrupt")
      assert.strictEqual(error.operation, "open")
      assert.include(error.message, `ledger ${path}: open failed: SQLite's integrity check failed`)
      assert.include(error.message, `mv ${path} ${path}.damaged`)
    }))

  it.effect("is refused when it is not a SQLite database at all", () =>
    Effect.gen(function*() {
      const path = join(freshDir(), "ledger.sqlite")
      writeFileSync(path, "this is not a database, it is a text file with more than a header's worth of bytes in it ".repeat(20))
      const error = yield* Effect.flip(Effect.scoped(Layer.build(Ledger.layerFile(path))))
      assert.strictEqual(error.reason, "corrupt")
      assert.include(error.message, "file is not a database")
    }))
})
