import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { writeFileAtomic } from "../../src/io/AtomicWrite.ts"

const root = mkdtempSync(join(tmpdir(), "frugal-atomic-write-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => {
  const dir = join(root, `case-${++n}`)
  mkdirSync(dir)
  return dir
}

describe("writeFileAtomic", () => {
  it.effect("replaces a file's content and leaves no temp file beside it", () =>
    Effect.gen(function*() {
      const dir = fresh()
      const path = join(dir, "report.md")
      writeFileSync(path, "old")
      yield* writeFileAtomic(path, "new")
      assert.strictEqual(readFileSync(path, "utf8"), "new")
      assert.deepStrictEqual(readdirSync(dir), ["report.md"])
    }))

  it.effect("keeps an existing file's mode: 600 stays 600", () =>
    Effect.gen(function*() {
      const dir = fresh()
      const path = join(dir, "private.html")
      writeFileSync(path, "old", { mode: 0o600 })
      yield* writeFileAtomic(path, "new")
      assert.strictEqual(statSync(path).mode & 0o777, 0o600)
      assert.strictEqual(readFileSync(path, "utf8"), "new")
    }))

  it.effect("writes through a symbolic link to its target and leaves the link a link", () =>
    Effect.gen(function*() {
      const dir = fresh()
      mkdirSync(join(dir, "reports"))
      const target = join(dir, "reports", "latest.html")
      writeFileSync(target, "old", { mode: 0o640 })
      const link = join(dir, "report.html")
      symlinkSync("reports/latest.html", link)
      yield* writeFileAtomic(link, "new")
      assert.isTrue(lstatSync(link).isSymbolicLink())
      assert.strictEqual(readlinkSync(link), "reports/latest.html")
      assert.strictEqual(readFileSync(target, "utf8"), "new")
      assert.strictEqual(statSync(target).mode & 0o777, 0o640)
      assert.deepStrictEqual(readdirSync(join(dir, "reports")), ["latest.html"])
    }))

  it.effect("creates the file a dangling link points to", () =>
    Effect.gen(function*() {
      const dir = fresh()
      const link = join(dir, "out.json")
      symlinkSync(join(dir, "real.json"), link)
      yield* writeFileAtomic(link, "{}")
      assert.strictEqual(readFileSync(join(dir, "real.json"), "utf8"), "{}")
      assert.isTrue(lstatSync(link).isSymbolicLink())
    }))

  it.effect("fails as a local failure, keeping the good file, when the target is a directory or its directory is missing", () =>
    Effect.gen(function*() {
      const dir = fresh()
      const good = join(dir, "keep.txt")
      writeFileSync(good, "good")
      const intoDirectory = yield* Effect.exit(writeFileAtomic(dir, "x"))
      assert.isTrue(Exit.isFailure(intoDirectory))
      assert.match(String(Exit.isFailure(intoDirectory) ? intoDirectory.cause : ""), /LocalFailure.*cannot write .*: is a directory \(EISDIR\)/s)
      const missing = yield* Effect.exit(writeFileAtomic(join(dir, "no-such-dir", "r.md"), "x"))
      assert.match(String(Exit.isFailure(missing) ? missing.cause : ""), /no such file or directory \(ENOENT\)/)
      assert.strictEqual(readFileSync(good, "utf8"), "good")
      assert.deepStrictEqual(readdirSync(dir), ["keep.txt"])
    }))

  it.effect("creates missing directories when asked", () =>
    Effect.gen(function*() {
      const dir = fresh()
      const path = join(dir, "a", "b", "c.json")
      yield* writeFileAtomic(path, "[]", { createDirectory: true })
      assert.strictEqual(readFileSync(path, "utf8"), "[]")
    }))
})
