import { execFile } from "node:child_process"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { findPython, pythonCandidates, PythonNotFound, trainerPythonRoot } from "../src/index.ts"

const scratch = mkdtempSync(join(tmpdir(), "frugal-find-python-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

// A `python3` that has no torch, like pyenv's on a machine where only the system Python has it.
const fakePythonDir = join(scratch, "bin")
const fakePython = join(fakePythonDir, "python3")
mkdirSync(fakePythonDir)
writeFileSync(fakePython, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n")
chmodSync(fakePython, 0o755)

describe("FindPython", () => {
  it("tries FRUGAL_PYTHON alone when it is set, else python3 on PATH and then the system's", () => {
    expect(pythonCandidates({ FRUGAL_PYTHON: "/opt/py/bin/python" })).toEqual([
      { command: "/opt/py/bin/python", source: "FRUGAL_PYTHON" }
    ])
    expect(pythonCandidates({})).toEqual([
      { command: "python3", source: "PATH" },
      { command: "/usr/bin/python3", source: "system" }
    ])
  })

  it("explains how to install torch when FRUGAL_PYTHON cannot import it", async () => {
    const exit = await Effect.runPromiseExit(findPython({ PATH: process.env["PATH"], FRUGAL_PYTHON: fakePython }))
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) {
      const error = exit.cause.reasons.find((r) => r._tag === "Fail")
      expect(error?._tag === "Fail" && error.error instanceof PythonNotFound).toBe(true)
      const message = error?._tag === "Fail" ? error.error.message : ""
      expect(message).toContain(`${fakePython} (FRUGAL_PYTHON): ModuleNotFoundError: No module named 'torch'`)
      expect(message).toContain("apt-get install python3-torch")
      expect(message).toContain("FRUGAL_PYTHON")
    }
  })

  it("skips a python3 on PATH without torch and records why", async () => {
    const exit = await Effect.runPromiseExit(findPython({ PATH: `${fakePythonDir}:${process.env["PATH"] ?? ""}` }))
    if (Exit.isSuccess(exit)) {
      expect(exit.value.source).toBe("system")
      expect(exit.value.executable).toBe("/usr/bin/python3")
    } else {
      const error = exit.cause.reasons.find((r) => r._tag === "Fail")
      const tried = error?._tag === "Fail" ? error.error.tried : []
      expect(tried.map((t) => t.source)).toEqual(["PATH", "system"])
    }
  })
})

// The unittest suite, in two parts: one process (seconds), and several processes under torchrun (each test
// launches the job a few times, so minutes on a shared two-core machine).
const unittest = (pattern: string, timeoutMillis: number) =>
  Effect.runPromise(findPython()).then((python) =>
    new Promise<{ code: number | null; output: string; executable: string }>((resolve) => {
      execFile(
        python.executable,
        ["-m", "unittest", "discover", "-s", "tests", "-t", "tests", "-p", pattern],
        { cwd: trainerPythonRoot, timeout: timeoutMillis, maxBuffer: 16 << 20, env: { ...process.env, PYTHONUNBUFFERED: "1" } },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
          resolve({ code, output: `${stdout}${stderr}`, executable: python.executable })
        }
      )
    })
  )

const expectPassed = (result: { code: number | null; output: string; executable: string }) => {
  if (result.code !== 0) {
    throw new Error(`python -m unittest failed (exit ${String(result.code)}) with ${result.executable}:\n${result.output}`)
  }
  expect(result.output).toMatch(/\nOK/)
}

describe("Python trainer suite", () => {
  it(
    "passes in one process (exact resume, torn checkpoints, signals, async writes, sharded-checkpoint layout, protocol fixture)",
    async () => expectPassed(await unittest("test_[!d]*.py", 240_000)),
    300_000
  )

  it(
    "passes under torchrun (2 and 4 processes: one rank signalled or killed, torn shard, other world sizes)",
    async () => expectPassed(await unittest("test_distributed.py", 540_000)),
    600_000
  )
})
