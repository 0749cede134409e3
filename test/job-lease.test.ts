/**
 * One supervisor per job, through the real `frugal` process: a second `frugal run --job-id` (or `--resume`) of a job
 * that is running is refused with exit 2 naming the holder, and nothing is started; the first runs alone to the end
 * and is billed for its whole run. A holder that died on this host is taken over at once by `--resume`; one on
 * another host (as far as the ledger says) only once its lease has expired.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runFrugal, startFrugal } from "./support/frugalCli.ts"
import { isAlive, referenceTrainer, type TrainerLaunch, waitForOutput, writeSlowJob } from "./support/slowJob.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-job-lease-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let trainer: TrainerLaunch
beforeAll(async () => {
  trainer = await referenceTrainer(join(dir, "probe"))
})

interface StatusJson {
  readonly job: { readonly status: string; readonly costUsd: number }
  readonly supervisor: { readonly pid: number; readonly host: string } | null
  readonly attempts: ReadonlyArray<{ readonly exitReason: string | null; readonly durationSeconds: number; readonly costUsd: number }>
}

const status = async (home: string, jobId: string): Promise<StatusJson> => {
  const result = await runFrugal(["status", jobId, "--json"], { env: { FRUGAL_HOME: home } })
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout)
}

describe("a job's lease", () => {
  it("refuses a second run and a --resume of a running job with exit 2 naming the holder; the first completes alone", async () => {
    const home = join(dir, "second")
    const file = writeSlowJob(dir, "second.json", trainer)
    const env = { FRUGAL_HOME: home }
    const wallStart = performance.now()
    const first = startFrugal(["run", file, "--job-id", "dup", "--price-per-hour", "3600"], { env })
    await waitForOutput(first, /\[attempt 1\] started/)

    for (const args of [["run", file, "--job-id", "dup", "--price-per-hour", "3600"], ["run", "--resume", "dup"]]) {
      const second = await runFrugal(args, { env })
      expect(second.code, second.stdout).toBe(2)
      expect(second.stderr).toContain(`job dup is already being run by pid ${first.child.pid} on ${hostname()}`)
      expect(second.stderr).toContain("nothing was started")
      expect(second.stdout).not.toContain("[attempt")
    }
    const whileRunning = await status(home, "dup")
    expect(whileRunning.supervisor?.pid).toBe(first.child.pid)

    const done = await first.done
    const wallSeconds = (performance.now() - wallStart) / 1000
    expect(done.code, done.stderr).toBe(0)
    const report = await status(home, "dup")
    expect(report.job.status).toBe("completed")
    expect(report.supervisor).toBeNull()
    // One attempt, never stopped by the second process, billed for its whole run at $1 per second.
    expect(report.attempts.map((a) => a.exitReason)).toEqual(["completed"])
    const [attempt] = report.attempts
    expect(attempt?.durationSeconds).toBeGreaterThan(4)
    expect(attempt?.durationSeconds).toBeLessThan(wallSeconds)
    expect(attempt?.costUsd).toBeCloseTo(attempt?.durationSeconds ?? 0, 6)
  }, 180_000)

  it("lets --resume take over at once from a holder on this host whose process is gone", async () => {
    const home = join(dir, "dead")
    const file = writeSlowJob(dir, "dead.json", trainer)
    const env = { FRUGAL_HOME: home }
    const first = startFrugal(["run", file, "--job-id", "orphaned"], { env })
    await waitForOutput(first, /checkpoint at step 10/)
    first.child.kill("SIGKILL")
    await first.done
    const pid = first.child.pid ?? 0
    expect(isAlive(pid)).toBe(false)

    const resumed = await runFrugal(["run", "--resume", "orphaned"], { env })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain(`[lease] took job orphaned over from pid ${pid} on ${hostname()} (frugal run): that process is gone`)
    expect(resumed.stdout).toContain("job orphaned: completed")
    expect((await status(home, "orphaned")).attempts.map((a) => a.exitReason)).toEqual(["lost", "completed"])
  }, 180_000)

  it("waits out the lease of a holder on another host, then --resume takes over", async () => {
    const home = join(dir, "remote")
    const file = writeSlowJob(dir, "remote.json", trainer, { steps: 10, stepDelaySeconds: 0 })
    const env = { FRUGAL_HOME: home }
    // A job started elsewhere: its supervisor on another machine holds the lease (written as that machine would).
    const interrupted = startFrugal(["run", file, "--job-id", "elsewhere"], { env })
    await waitForOutput(interrupted, /\[attempt 1\] started/)
    interrupted.child.kill("SIGINT")
    expect((await interrupted.done).code).toBe(130)
    const ledger = new DatabaseSync(join(home, "ledger.sqlite"))
    const now = Date.now()
    const hold = (expiresMillis: number) =>
      ledger.prepare(
        `INSERT INTO job_leases (job_id, token, holder_pid, holder_host, holder_pid_namespace, holder_label, acquired_ms, heartbeat_ms, expires_ms)
         VALUES ('elsewhere', 'remote-token', 4242, 'gpu-node-7', 'pid:[4026531836]', 'frugal run', ?, ?, ?)
         ON CONFLICT (job_id) DO UPDATE SET expires_ms = excluded.expires_ms`
      ).run(now - 5_000, now - 5_000, expiresMillis)
    hold(now + 40_000)

    const refused = await runFrugal(["run", "--resume", "elsewhere"], { env })
    expect(refused.code, refused.stdout).toBe(2)
    expect(refused.stderr).toContain("job elsewhere is already being run by pid 4242 on gpu-node-7 (frugal run")
    expect(refused.stderr).toMatch(/last heartbeat \d+ s ago/)
    expect(refused.stderr).toContain(`its lease expires at ${new Date(now + 40_000).toISOString().replace(/\.\d+Z$/, "Z")}`)

    hold(Date.now() - 1)
    ledger.close()
    const resumed = await runFrugal(["run", "--resume", "elsewhere"], { env })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain("[lease] took job elsewhere over from pid 4242 on gpu-node-7 (frugal run): its lease had expired")
    expect(resumed.stdout).toContain("job elsewhere: completed")
  }, 180_000)
})
