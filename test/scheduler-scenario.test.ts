/**
 * The team queue through the real `frugal server` process on loopback, with tiny CPU training jobs charged at the
 * infrastructure profile's local price: team a's budget admits one of its jobs at a time (the rest wait with reason
 * `budget`), team b's job runs meanwhile, a higher-priority job overtakes a lower one, and aging lets the low one
 * through ahead of a later high-priority job. Afterwards the ledger shows that no team was over its budget or GPU
 * limit at any instant, and every job ends with the weights of an uninterrupted run.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import {
  call,
  eventually,
  jobState,
  type LedgerAttempt,
  readLedger,
  referenceHash,
  type RunningServer,
  startServer,
  submit,
  tinyWorkload,
  writeConfig
} from "./support/frugalServer.ts"

const home = mkdtempSync(join(tmpdir(), "frugal-scenario-"))
const servers: Array<RunningServer> = []
afterAll(async () => {
  for (const server of servers) await server.kill("SIGTERM")
  rmSync(home, { recursive: true, force: true })
})

const TOKEN_A = "team-a-token-0123456789"
const TOKEN_B = "team-b-token-9876543210"
const BUDGET_A = 0.45
const BUDGET_B = 1
const PRICE_PER_HOUR = 18

const config = writeConfig(home, "scheduler.yaml", `
teams:
  - { name: a, tokenEnv: FRUGAL_TOKEN_A, monthlyBudgetUsd: ${BUDGET_A}, maxGpus: 4 }
  - { name: b, tokenEnv: FRUGAL_TOKEN_B, monthlyBudgetUsd: ${BUDGET_B}, maxGpus: 4 }
maxGpus: 8
aging: { pointsPerHour: 7200 }   # two points a second, so the test sees aging within seconds
passEverySeconds: 0.5
`)
const infra = writeConfig(home, "infra.yaml", `local: { hourlyPriceUsd: ${PRICE_PER_HOUR} }\n`)

/** Team-a cost accrued by `at` over its attempts (each charged evenly over its span). */
const accruedAt = (attempts: ReadonlyArray<LedgerAttempt>, at: number): number =>
  attempts.reduce((sum, a) => {
    const end = a.ended_ms ?? a.last_seen_ms
    const cost = a.cost_usd ?? 0
    if (at <= a.started_ms || end <= a.started_ms) return sum
    return sum + cost * Math.min(1, (at - a.started_ms) / (end - a.started_ms))
  }, 0)

const overlaps = (x: LedgerAttempt, y: LedgerAttempt) => x.started_ms < (y.ended_ms ?? y.last_seen_ms) && y.started_ms < (x.ended_ms ?? x.last_seen_ms)

describe("frugal server schedules a team's queue", () => {
  it("holds budgets, lets priority overtake and aging through, and every job ends with its reference weights", async () => {
    const server = await startServer(["--config", config, "--infra", infra], { FRUGAL_HOME: home, FRUGAL_TOKEN_A: TOKEN_A, FRUGAL_TOKEN_B: TOKEN_B })
    servers.push(server)
    const long = tinyWorkload("long-a", { steps: 400 })
    const tiny = (name: string) => tinyWorkload(name)

    // a1 runs long enough for the rest of team a's jobs to queue behind it.
    const a1 = await submit(server.url, TOKEN_A, long)
    await eventually("a1 to run", 30, async () => ((await jobState(server.url, TOKEN_A, a1)).state === "running" ? true : undefined))
    const [b1, low] = await Promise.all([submit(server.url, TOKEN_B, tiny("b-one")), submit(server.url, TOKEN_A, tiny("a-low"), { priority: 0 })])
    // Twenty points above a-low: more than the few seconds of age a-low has over it.
    const high = await submit(server.url, TOKEN_A, tinyWorkload("a-high", { steps: 400 }), { priority: 20 })
    await eventually("a-low to wait for budget", 30, async () => {
      const job = await jobState(server.url, TOKEN_A, low)
      return job.state === "queued" && job.reason === "budget" ? job : undefined
    })
    // Once a-high runs, a later job four points above a-low: by then a-low has waited long enough to outrank it.
    await eventually("a-high to run", 120, async () => ((await jobState(server.url, TOKEN_A, high)).state === "running" ? true : undefined))
    const high2 = await submit(server.url, TOKEN_A, tiny("a-high-later"), { priority: 4 })
    const ids = [a1, b1, low, high, high2]
    await eventually("every job to complete", 180, async () => {
      const states = await Promise.all(ids.map(async (id) => (await jobState(server.url, id.startsWith("b-") ? TOKEN_B : TOKEN_A, id)).state))
      if (states.some((state) => state === "failed" || state === "cancelled")) throw new Error(`a job did not complete: ${states.join(", ")}`)
      return states.every((state) => state === "completed") ? true : undefined
    })
    const budgets = await call(server.url, TOKEN_A, "GET", "/api/v1/budgets")
    expect(budgets.status).toBe(200)
    await server.kill("SIGTERM")

    const ledger = readLedger(join(home, "ledger.sqlite"))
    const admitted = (id: string) => ledger.queue.find((row) => row.id === id)?.admitted_ms ?? Infinity
    const submitted = (id: string) => ledger.queue.find((row) => row.id === id)?.submitted_ms ?? Infinity
    // Priority: a-high, submitted after a-low while both waited for a1, started before it.
    expect(submitted(low)).toBeLessThan(submitted(high))
    expect(submitted(high)).toBeLessThan(ledger.attempts.find((a) => a.job_id === a1)?.ended_ms ?? 0)
    expect(admitted(high)).toBeLessThan(admitted(low))
    // Aging: when a-low was chosen, a-high-later (priority 4 above it, submitted later) was waiting too.
    expect(submitted(high2)).toBeLessThan(admitted(low))
    expect(admitted(low)).toBeLessThan(admitted(high2))
    // a-low's age over a-high-later, in points (two a second), is more than a-high-later's four points of priority.
    expect(((submitted(high2) - submitted(low)) / 1000) * 2).toBeGreaterThan(4)
    // Why a-low waited: the budget first, then (once the budget allowed it) nothing else.
    const lowReasons = ledger.decisions.filter((d) => d.job_id === low && d.decision === "wait").map((d) => d.reason)
    expect(lowReasons).toContain("budget")

    const teamA = ledger.attempts.filter((a) => [a1, low, high, high2].includes(a.job_id))
    const teamB = ledger.attempts.filter((a) => a.job_id === b1)
    // Team b ran while team a's long job did.
    expect(teamB.some((b) => teamA.some((a) => a.job_id === a1 && overlaps(a, b)))).toBe(true)
    // Team a's budget admitted one of its jobs at a time.
    for (const x of teamA) for (const y of teamA) if (x !== y) expect(overlaps(x, y), `${x.id} and ${y.id} overlap`).toBe(false)
    // Never over budget: team a's accrued cost at every instant an attempt started or ended.
    const instants = ledger.attempts.flatMap((a) => [a.started_ms, a.ended_ms ?? a.last_seen_ms])
    for (const at of instants) {
      expect(accruedAt(teamA, at)).toBeLessThanOrEqual(BUDGET_A)
      expect(accruedAt(teamB, at)).toBeLessThanOrEqual(BUDGET_B)
      const gpusAt = (attempts: ReadonlyArray<LedgerAttempt>) =>
        attempts.filter((a) => a.started_ms <= at && at < (a.ended_ms ?? a.last_seen_ms)).reduce((sum, a) => sum + a.accelerators_per_instance * a.instance_count, 0)
      expect(gpusAt(teamA)).toBeLessThanOrEqual(4)
      expect(gpusAt(ledger.attempts)).toBeLessThanOrEqual(8)
    }
    // Every attempt charged at the profile's local price; each job ran once, to completion.
    expect(new Set(ledger.attempts.map((a) => a.hourly_price_usd))).toEqual(new Set([PRICE_PER_HOUR]))
    expect(ledger.attempts.map((a) => a.exit_reason)).toEqual(ledger.attempts.map(() => "completed"))
    expect(ledger.attempts.length).toBe(ids.length)

    const tinyHash = await referenceHash(tiny("reference"))
    const longHash = await referenceHash(long)
    for (const id of ids) {
      expect(ledger.jobs.find((job) => job.id === id)?.weights_sha256, id).toBe(id === a1 || id === high ? longHash : tinyHash)
    }
  }, 400_000)
})
