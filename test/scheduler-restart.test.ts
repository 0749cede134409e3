/**
 * `kill -9` of `frugal server` at a random moment (a property over the kill point, a random delay after one of three
 * phases: jobs just queued, a first attempt started, a first checkpoint written), then a restart on the same ledger:
 * every job completes exactly once with the weights of an uninterrupted run, no job ever had two attempts running at
 * once, nothing the dead server started is left running, and the ledger is consistent. One run per phase, so it fits
 * CI.
 */
import fc from "fast-check"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, describe, expect, it } from "vitest"
import { eventually, jobState, readLedger, referenceHash, type RunningServer, startServer, submit, tinyWorkload, writeConfig } from "./support/frugalServer.ts"

const roots: Array<string> = []
const servers: Array<RunningServer> = []
afterAll(async () => {
  for (const server of servers) await server.kill("SIGKILL")
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

const TOKEN = "restart-team-token-0123"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

type Phase = "queued" | "running" | "checkpointed"

/** Whether the ledger shows the phase: an attempt started, or one with a checkpoint. */
const reached = (path: string, phase: Phase): boolean => {
  if (phase === "queued") return true
  const db = new DatabaseSync(path, { readOnly: true, timeout: 5_000 })
  try {
    const row = db.prepare(phase === "running" ? "SELECT count(*) AS n FROM attempts" : "SELECT count(*) AS n FROM attempts WHERE last_checkpoint_step IS NOT NULL").get()
    return row !== undefined && Number(row["n"]) > 0
  } catch {
    return false
  } finally {
    db.close()
  }
}

const killedAndRestarted = async (phase: Phase, killAfterMillis: number, reference: string) => {
  const home = mkdtempSync(join(tmpdir(), "frugal-restart-"))
  roots.push(home)
  // Two jobs' reservations fit the budget at once; the third waits until one has finished.
  const config = writeConfig(home, "scheduler.yaml", `
teams: [{ name: a, tokenEnv: FRUGAL_TOKEN_A, monthlyBudgetUsd: 0.6, maxGpus: 8 }]
maxGpus: 8
passEverySeconds: 0.5
`)
  const infra = writeConfig(home, "infra.yaml", "local: { hourlyPriceUsd: 18 }\n")
  const args = ["--config", config, "--infra", infra]
  const env = { FRUGAL_HOME: home, FRUGAL_TOKEN_A: TOKEN }
  const first = await startServer(args, env)
  servers.push(first)
  const ids = await Promise.all(["one", "two", "three"].map((name) => submit(first.url, TOKEN, tinyWorkload(`restart-${name}`))))
  await eventually(`phase ${phase}`, 90, async () => (reached(join(home, "ledger.sqlite"), phase) ? true : undefined))
  await new Promise((resolve) => setTimeout(resolve, killAfterMillis))
  await first.kill("SIGKILL")

  const second = await startServer(args, env)
  servers.push(second)
  await eventually("every job to complete after the restart", 150, async () => {
    const states = await Promise.all(ids.map(async (id) => (await jobState(second.url, TOKEN, id)).state))
    if (states.some((state) => state === "failed" || state === "cancelled")) throw new Error(`${states.join(", ")}\n${second.log()}`)
    return states.every((state) => state === "completed") ? true : undefined
  })
  await second.kill("SIGTERM")

  const ledger = readLedger(join(home, "ledger.sqlite"))
  for (const id of ids) {
    expect(ledger.queue.find((row) => row.id === id)?.state).toBe("completed")
    expect(ledger.decisions.filter((d) => d.job_id === id && d.decision === "completed").length, `${id} completed once`).toBe(1)
    const job = ledger.jobs.find((row) => row.id === id)
    expect(job?.status).toBe("completed")
    expect(job?.weights_sha256).toBe(reference)
    const attempts = ledger.attempts.filter((a) => a.job_id === id).sort((x, y) => x.sequence - y.sequence)
    expect(attempts.map((a) => a.sequence)).toEqual(attempts.map((_, i) => i + 1))
    expect(attempts.filter((a) => a.exit_reason === "completed").length).toBe(1)
    expect(attempts.at(-1)?.exit_reason).toBe("completed")
    for (const attempt of attempts) {
      expect(attempt.ended_ms, `${attempt.id} closed`).not.toBeNull()
      expect(attempt.cost_usd ?? -1).toBeGreaterThanOrEqual(0)
    }
    // Never two attempts of one job at once: each starts after the one before it ended.
    for (let i = 1; i < attempts.length; i++) expect(attempts[i]?.started_ms ?? 0).toBeGreaterThanOrEqual(attempts[i - 1]?.ended_ms ?? Infinity)
  }
  // Every queued job is one of ours, and nothing the dead server started still runs.
  expect(ledger.queue.map((row) => row.id).sort()).toEqual([...ids].sort())
  for (const attempt of ledger.attempts) {
    if (attempt.pid !== null) expect(isAlive(attempt.pid), `process ${attempt.pid} of ${attempt.id} left running`).toBe(false)
  }
  return ledger.attempts
}

describe("frugal server killed with SIGKILL and restarted", () => {
  it("completes every job exactly once, whatever the moment of the kill", async () => {
    const reference = await referenceHash(tinyWorkload("reference"))
    for (const phase of ["queued", "running", "checkpointed"] as const) {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 1_500 }), async (killAfterMillis) => {
          const attempts = await killedAndRestarted(phase, killAfterMillis, reference)
          // Killed while an attempt ran: it was closed as lost (charged to its last sighting) and launched again.
          if (phase !== "queued") expect(attempts.some((a) => a.exit_reason === "lost")).toBe(true)
        }),
        { numRuns: 1, seed: 20_261_204, endOnFailure: true }
      )
    }
  }, 480_000)
})
