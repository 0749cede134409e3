import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { INPUT_FILE_KINDS, readInputFile } from "../../src/io/InputFile.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-input-file-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const failureOf = <A>(exit: Exit.Exit<A, { readonly message: string }>): string =>
  Exit.isFailure(exit) ? String(exit.cause) : "succeeded"

describe("readInputFile", () => {
  it.effect("reads a regular file's text, and follows a symbolic link to one", () =>
    Effect.gen(function*() {
      const file = join(dir, "trace.json")
      writeFileSync(file, "{\"data\": [1, 0]}")
      symlinkSync(file, join(dir, "link.json"))
      assert.strictEqual(yield* readInputFile(file, { kind: "trace", flag: "--trace" }), "{\"data\": [1, 0]}")
      assert.strictEqual(yield* readInputFile(join(dir, "link.json"), { kind: "trace", flag: "--trace" }), "{\"data\": [1, 0]}")
    }))

  it.effect("refuses a FIFO at once instead of waiting for a writer, naming the flag and the path", () =>
    Effect.gen(function*() {
      const fifo = join(dir, "pipe.json")
      execFileSync("mkfifo", [fifo])
      const exit = yield* Effect.exit(readInputFile(fifo, { kind: "costExplorer", flag: "--ce-file" }))
      assert.isTrue(Exit.isFailure(exit))
      const message = failureOf(exit)
      assert.include(message, "--ce-file")
      assert.include(message, fifo)
      assert.include(message, "expected a regular file with the Cost Explorer JSON, got a FIFO (named pipe)")
    }))

  it.effect("refuses a device that never ends and a directory", () =>
    Effect.gen(function*() {
      const zero = failureOf(yield* Effect.exit(readInputFile("/dev/zero", { kind: "catalog", flag: "--catalog" })))
      assert.include(zero, "/dev/zero: expected a regular file with the catalog (JSON or CSV), got a character device")
      mkdirSync(join(dir, "sub"))
      const directory = failureOf(yield* Effect.exit(readInputFile(join(dir, "sub"), { kind: "workload" })))
      assert.include(directory, "expected a file with the workload spec (YAML or JSON), not a directory, got a directory")
    }))

  it.effect("refuses a file over its kind's cap before reading it, and names the cap", () =>
    Effect.gen(function*() {
      const big = join(dir, "pricing.yaml")
      writeFileSync(big, "")
      truncateSync(big, INPUT_FILE_KINDS.pricingConfig.maxBytes + 1)
      const message = failureOf(yield* Effect.exit(readInputFile(big, { kind: "pricingConfig", flag: "--pricing-config" })))
      assert.include(message, "expected a file of at most 1 MiB with the pricing config (YAML or JSON), got 1 MiB (1048577 bytes)")
    }))

  it.effect("says a missing file is missing and an unreadable one is unreadable", () =>
    Effect.gen(function*() {
      const missing = failureOf(yield* Effect.exit(readInputFile(join(dir, "nope.yaml"), { kind: "workload" })))
      assert.include(missing, "expected a readable file with the workload spec (YAML or JSON), got no such file")
      if (process.getuid?.() !== 0) {
        const secret = join(dir, "secret.json")
        writeFileSync(secret, "{}", { mode: 0o000 })
        const denied = failureOf(yield* Effect.exit(readInputFile(secret, { kind: "utilization", flag: "--utilization-file" })))
        assert.include(denied, "permission denied")
      }
    }))
})
