/**
 * Two `frugal server` replicas sharing one real PostgreSQL (Debian's, a throwaway cluster on loopback): both serve
 * the API, one leads. A job submitted to the follower is scheduled by the leader at once (LISTEN/NOTIFY, no polling).
 * The leader is killed with SIGKILL mid-run: the follower takes the lead and schedules a new job within 10 s, resumes
 * what the dead leader was running, and every job completes exactly once with its reference weights.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestPostgres, type TestPostgres } from "../packages/runner/test/support/TestPostgres.ts"
import { call, eventually, jobState, jobSupervisor, LedgerAttempt, referenceHash, type RunningServer, startServer, submit, tinyWorkload, writeConfig } from "./support/frugalServer.ts"

const home = mkdtempSync(join(tmpdir(), "frugal-replicas-"))
const servers: Array<RunningServer> = []
let postgres: TestPostgres | undefined
beforeAll(async () => {
  postgres = await startTestPostgres()
}, 120_000)
afterAll(async () => {
  for (const server of servers) await server.kill("SIGKILL")
  await postgres?.stop()
  rmSync(home, { recursive: true, force: true })
})

const TOKEN = "replica-team-token-0123"
const Health = Schema.Struct({ status: Schema.Literal("ok"), leader: Schema.Boolean })
const leads = async (server: RunningServer): Promise<boolean> => Schema.decodeUnknownSync(Health)((await call(server.url, null, "GET", "/healthz")).body).leader

const rows = async <A>(url: string, schema: Schema.Decoder<A>, sql: string): Promise<ReadonlyArray<A>> => {
  if (postgres === undefined) throw new Error("PostgreSQL did not start")
  return Schema.decodeUnknownSync(Schema.Array(schema))(await postgres.query(url, sql))
}

describe("frugal server replicas on PostgreSQL", () => {
  it("hands the lead over within seconds of the leader's death; nothing is lost or run twice", async () => {
    if (postgres === undefined) throw new Error("PostgreSQL did not start")
    const ledger = await postgres.newDatabase("replicas")
    const config = writeConfig(home, "scheduler.yaml", `
teams: [{ name: a, tokenEnv: FRUGAL_TOKEN_A, monthlyBudgetUsd: 10, maxGpus: 8 }]
maxGpus: 8
passEverySeconds: 5
`)
    const infra = writeConfig(home, "infra.yaml", "local: { hourlyPriceUsd: 18 }\n")
    const args = ["--config", config, "--infra", infra, "--ledger", ledger]
    const env = { FRUGAL_HOME: home, FRUGAL_TOKEN_A: TOKEN }
    const first = await startServer(args, env)
    servers.push(first)
    await eventually("the first replica to lead", 30, async () => ((await leads(first)) ? true : undefined))
    const second = await startServer(args, env)
    servers.push(second)
    expect(await leads(second)).toBe(false)

    // Submitted through the follower, scheduled by the leader.
    const running = await submit(second.url, TOKEN, tinyWorkload("replica-one"))
    await eventually("the leader to start it", 30, async () => ((await jobState(second.url, TOKEN, running)).state === "running" ? true : undefined))
    await eventually("its first checkpoint", 60, async () =>
      (await rows(ledger, Schema.Struct({ id: Schema.String }), "SELECT id FROM attempts WHERE last_checkpoint_step IS NOT NULL")).length > 0 ? true : undefined)
    // The leader holds the job's lease, and either replica says so.
    expect(await jobSupervisor(second.url, TOKEN, running)).toMatchObject({ pid: first.process.child.pid, label: "frugal server" })

    await first.kill("SIGKILL")
    const killedAt = Date.now()
    const next = await submit(second.url, TOKEN, tinyWorkload("replica-two"))
    await eventually("the follower to schedule", 30, async () => ((await jobState(second.url, TOKEN, next)).state !== "queued" ? true : undefined))
    const scheduledAfterMillis = (Date.parse((await jobState(second.url, TOKEN, next)).admittedAt ?? "") || Infinity) - killedAt
    expect(scheduledAfterMillis).toBeLessThan(10_000)
    expect(await leads(second)).toBe(true)
    // The dead leader's lease was taken over at once (its process is gone from this host), not waited out.
    await eventually("the new leader to hold the running job's lease", 10, async () =>
      (await jobSupervisor(second.url, TOKEN, running))?.pid === second.process.child.pid ? true : undefined)

    const ids = [running, next]
    await eventually("both jobs to complete", 150, async () => {
      const states = await Promise.all(ids.map(async (id) => (await jobState(second.url, TOKEN, id)).state))
      if (states.some((state) => state === "failed" || state === "cancelled")) throw new Error(`${states.join(", ")}\n${second.log()}`)
      return states.every((state) => state === "completed") ? true : undefined
    })
    // Finished jobs are supervised by nobody.
    expect(await jobSupervisor(second.url, TOKEN, running)).toBeNull()
    await second.kill("SIGTERM")

    const attempts = await rows(ledger, LedgerAttempt, "SELECT * FROM attempts ORDER BY job_id, sequence")
    const completed = await rows(ledger, Schema.Struct({ job_id: Schema.String }), "SELECT job_id FROM queue_decisions WHERE decision = 'completed'")
    expect(completed.map((row) => row.job_id).sort()).toEqual([...ids].sort())
    const survivor = attempts.filter((a) => a.job_id === running)
    // The dead leader's attempt was closed as lost and relaunched from its checkpoint, after it, never beside it.
    expect(survivor.map((a) => a.exit_reason)).toEqual(["lost", "completed"])
    expect(survivor[1]?.started_ms ?? 0).toBeGreaterThanOrEqual(survivor[0]?.ended_ms ?? Infinity)
    expect(attempts.filter((a) => a.job_id === next).map((a) => a.exit_reason)).toEqual(["completed"])
    const reference = await referenceHash(tinyWorkload("reference"))
    const hashes = await rows(ledger, Schema.Struct({ id: Schema.String, weights_sha256: Schema.NullOr(Schema.String) }), "SELECT id, weights_sha256 FROM jobs")
    expect(hashes.map((job) => job.weights_sha256)).toEqual([reference, reference])
    console.log(`replicas: the follower scheduled a new job ${scheduledAfterMillis} ms after the leader was killed`)
  }, 400_000)
})
