/**
 * A supervisor killed with SIGKILL mid-run (no finalizer runs, its trainer is orphaned) and started again
 * with `frugal run --resume JOB`: the job continues from the ledger and the checkpoint directory and
 * completes, and the ledger lists every attempt with its cost — the orphaned one closed as `lost`,
 * charged up to the moment it was last seen.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { example, frugalBin, repoRoot, runFrugal } from "./support/frugalCli.ts"

const home = mkdtempSync(join(tmpdir(), "frugal-supervisor-kill-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const env = { FRUGAL_HOME: home }

/** Starts `frugal run` and sends it `signal` as soon as its trainer reports the first durable checkpoint. */
const runUntilFirstCheckpointThenKill = (
  jobId: string,
  signal: NodeJS.Signals = "SIGKILL"
): Promise<{ readonly stdout: string; readonly stderr: string; readonly signal: string | null; readonly code: number | null }> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [frugalBin, "run", example("run/tiny-train.yaml"), "--job-id", jobId, "--price-per-hour", "3.6"],
      { cwd: repoRoot, env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] }
    )
    let stdout = ""
    let stderr = ""
    let killed = false
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      if (!killed && /checkpoint at step \d+/.test(stdout)) {
        killed = true
        child.kill(signal)
      }
    })
    child.on("error", reject)
    child.on("close", (code, signal) => resolve({ stdout, stderr, signal, code }))
  })

interface StatusJson {
  readonly job: { readonly status: string; readonly costUsd: number; readonly finalStep: number | null; readonly weightsSha256: string | null }
  readonly attempts: ReadonlyArray<{
    readonly sequence: number
    readonly exitReason: string | null
    readonly costUsd: number
    readonly durationSeconds: number
    readonly resumedFromStep: number | null
    readonly lastCheckpointStep: number | null
    readonly externalId: string | null
    readonly placement: { readonly hourlyPriceUsd: number }
  }>
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("supervisor killed with SIGKILL", () => {
  it("continues the job on restart; the ledger lists every attempt with its cost", async () => {
    const jobId = "kill-me"
    const first = await runUntilFirstCheckpointThenKill(jobId)
    expect(first.signal).toBe("SIGKILL")
    expect(first.stdout).toContain(`job ${jobId}:`)

    const resumed = await runFrugal(["run", "--resume", jobId], { env })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain(`continuing job ${jobId}`)
    expect(resumed.stdout).toContain(`job ${jobId}: completed`)

    const status = await runFrugal(["status", jobId, "--json"], { env })
    expect(status.code, status.stderr).toBe(0)
    const report: StatusJson = JSON.parse(status.stdout)
    expect(report.job.status).toBe("completed")
    expect(report.job.finalStep).toBe(40)
    expect(report.job.weightsSha256).toMatch(/^[0-9a-f]{64}$/)
    expect(report.attempts.map((a) => a.exitReason)).toEqual(["lost", "completed"])
    const [orphan, last] = report.attempts
    // The orphan is charged for the time it was seen running, at the placement's price.
    expect(orphan?.costUsd).toBeGreaterThan(0)
    expect(orphan?.costUsd).toBeCloseTo(((orphan?.durationSeconds ?? 0) / 3600) * 3.6, 9)
    expect(orphan?.lastCheckpointStep).toBeGreaterThanOrEqual(5)
    expect(isAlive(Number(orphan?.externalId))).toBe(false)
    // The new attempt resumed from a checkpoint instead of starting over.
    expect(last?.resumedFromStep).toBeGreaterThanOrEqual(5)
    expect(last?.costUsd).toBeGreaterThan(0)
    expect(report.job.costUsd).toBeCloseTo((orphan?.costUsd ?? 0) + (last?.costUsd ?? 0), 12)

    // The same weights as a run that was never interrupted.
    const reference = await runFrugal(["run", example("run/tiny-train.yaml"), "--job-id", "reference"], { env })
    expect(reference.code, reference.stderr).toBe(0)
    expect(reference.stdout).toContain(`weights sha256: ${report.job.weightsSha256}`)
  }, 240_000)
})

describe("supervisor stopped with Ctrl-C or SIGTERM", () => {
  it.each(["SIGINT", "SIGTERM"] as const)("%s cancels the job and its attempt, stops the trainer, and --resume ends on the same weights", async (signal) => {
    const jobId = `stop-${signal.toLowerCase()}`
    const stopped = await runUntilFirstCheckpointThenKill(jobId, signal)
    expect(stopped.code).toBe(130)
    expect(stopped.stderr).toContain(`job ${jobId}: cancelled; its checkpoints are kept: continue with frugal run --resume ${jobId}`)
    expect(stopped.stderr).not.toMatch(/\n\s+at /)

    const status = await runFrugal(["status", jobId, "--json"], { env })
    expect(status.code, status.stderr).toBe(0)
    const report: StatusJson = JSON.parse(status.stdout)
    expect(report.job.status).toBe("cancelled")
    expect(report.attempts.map((a) => a.exitReason)).toEqual(["cancelled"])
    // The trainer was stopped with its supervisor, not left running beside the ledger.
    expect(isAlive(Number(report.attempts[0]?.externalId))).toBe(false)

    const resumed = await runFrugal(["run", "--resume", jobId], { env })
    expect(resumed.code, resumed.stderr).toBe(0)
    const after: StatusJson = JSON.parse((await runFrugal(["status", jobId, "--json"], { env })).stdout)
    expect(after.job.status).toBe("completed")
    expect(after.attempts.map((a) => a.exitReason)).toEqual(["cancelled", "completed"])
    expect(after.attempts[1]?.resumedFromStep).toBeGreaterThanOrEqual(5)
    const reference = await runFrugal(["run", example("run/tiny-train.yaml"), "--job-id", `reference-${signal}`], { env })
    expect(reference.stdout).toContain(`weights sha256: ${after.job.weightsSha256}`)
  }, 240_000)
})
