/**
 * `frugal submit | queue | cancel` against a real `frugal server`: what they print and how they exit (0 ok, 2 bad
 * input or a refused token, 3 a deadline no placement meets, 4 a server that cannot be reached).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import { Frugal } from "@frugal/sdk"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { example, runFrugal, STACK_FRAME } from "./support/frugalCli.ts"
import { type RunningServer, startServer, tinyWorkload, writeConfig } from "./support/frugalServer.ts"

const home = mkdtempSync(join(tmpdir(), "frugal-queue-cli-"))
const TOKEN = "cli-team-token-0123456789"
let server: RunningServer
let planned: RunningServer
let env: Record<string, string> = {}

beforeAll(async () => {
  // The budget holds one tiny job's reservation (0.25) at a time: a second one waits.
  const config = writeConfig(home, "scheduler.yaml", "teams: [{ name: a, tokenEnv: FRUGAL_TOKEN_A, monthlyBudgetUsd: 0.3, maxGpus: 8 }]\nmaxGpus: 8\npassEverySeconds: 0.5\n")
  const local = writeConfig(home, "local.yaml", "local: { hourlyPriceUsd: 1 }\n")
  // A Slurm partition as priced capacity, for a server whose jobs are planned (none of these reaches it).
  const slurm = writeConfig(home, "slurm.yaml", "slurm:\n  - { name: lab, partitions: [{ name: gpu, accelerator: A100-80GB, gpusPerNode: 8, nodes: 4, hourlyPriceUsd: 9.5 }] }\n")
  ;[server, planned] = await Promise.all([
    startServer(["--config", config, "--infra", local], { FRUGAL_HOME: home, FRUGAL_TOKEN_A: TOKEN }),
    startServer(["--config", config, "--infra", slurm, "--ledger", join(home, "planned.sqlite")], { FRUGAL_HOME: home, FRUGAL_TOKEN_A: TOKEN })
  ])
  env = { FRUGAL_HOME: home, FRUGAL_SERVER: server.url, FRUGAL_TOKEN: TOKEN }
}, 120_000)

afterAll(async () => {
  await server.kill("SIGTERM")
  await planned.kill("SIGTERM")
  rmSync(home, { recursive: true, force: true })
})

const Submitted = Schema.Struct({ id: Schema.String, state: Schema.String, reason: Schema.NullOr(Schema.String), expectedCostUsd: Schema.Number, gpus: Schema.Number })
const Listed = Schema.Struct({ jobs: Schema.Array(Schema.Struct({ id: Schema.String, state: Schema.String, reason: Schema.NullOr(Schema.String), team: Schema.String })) })

describe("frugal submit, queue and cancel", () => {
  it("queues a workload, lists it with why it waits, and cancels it", async () => {
    const workload = writeConfig(home, "tiny.yaml", tinyWorkload("cli-job", { budgetUsd: 0.25 }))
    // The first job runs for minutes, holding the team's budget, so the second one waits for budget until cancelled.
    const long = writeConfig(home, "long.yaml", tinyWorkload("cli-job", { budgetUsd: 0.25, steps: 100_000 }))
    const first = await runFrugal(["submit", long], { env })
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/^cli-job-\d{8}-\d{6}-[0-9a-f]{4}: queued, expected \$0\.25, 0 GPUs/)
    const submitted = await runFrugal(["submit", workload, "--priority", "3", "--json"], { env })
    expect(submitted.code, submitted.stderr).toBe(0)
    const answer = Schema.decodeUnknownSync(Submitted)(JSON.parse(submitted.stdout))
    expect(answer.state).toBe("queued")
    expect(answer.expectedCostUsd).toBe(0.25)
    let jobs: ReadonlyArray<{ readonly id: string; readonly reason: string | null }> = []
    for (let i = 0; i < 50 && jobs.find((job) => job.id === answer.id)?.reason !== "budget"; i++) {
      const listed = await runFrugal(["queue", "--json"], { env })
      expect(listed.code, listed.stderr).toBe(0)
      jobs = Schema.decodeUnknownSync(Listed)(JSON.parse(listed.stdout)).jobs
    }
    expect(jobs.find((job) => job.id === answer.id)?.reason).toBe("budget")
    const table = await runFrugal(["queue"], { env })
    expect(table.stdout.split("\n")[0]).toMatch(/^JOB\s+TEAM\s+STATE\s+REASON\s+PRIORITY\s+GPUS\s+SUBMITTED\s+EXPECTED\s+COST$/)
    const cancelled = await runFrugal(["cancel", answer.id], { env })
    expect(cancelled.code, cancelled.stderr).toBe(0)
    expect(cancelled.stdout.trim()).toBe(`${answer.id}: cancelled`)
    const firstId = first.stdout.split(":")[0] ?? ""
    const stopped = await runFrugal(["cancel", firstId], { env })
    expect(stopped.stdout.trim()).toMatch(new RegExp(`^${firstId}: (stopping \\(it writes a final checkpoint first\\)|cancelled)$`))
  })

  it("does the same through the SDK: Frugal.make().submit, queue and cancel, the server and token from its env", async () => {
    await using frugal = Frugal.make({ env })
    const first = await frugal.submit(tinyWorkload("sdk-long", { budgetUsd: 0.25, steps: 100_000 }))
    const answer = await frugal.submit(tinyWorkload("sdk-job", { budgetUsd: 0.25 }), { priority: 2 })
    expect(answer.id).toMatch(/^sdk-job-\d{8}-\d{6}-[0-9a-f]{4}$/)
    expect(answer.expectedCostUsd).toBe(0.25)
    // The long job starts once the previous test's job has stopped and given back its reservation; then the
    // second one waits for budget behind it.
    let waiting: { readonly team: string; readonly reason: string | null } | undefined
    let running: { readonly state: string } | undefined
    for (let i = 0; i < 300 && (waiting?.reason !== "budget" || running?.state !== "running"); i++) {
      const jobs = (await frugal.queue({ team: "a" })).jobs
      waiting = jobs.find((job) => job.id === answer.id)
      running = jobs.find((job) => job.id === first.id)
      if (waiting?.reason !== "budget" || running?.state !== "running") await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(running).toMatchObject({ state: "running" })
    expect(waiting).toMatchObject({ team: "a", reason: "budget" })
    expect((await frugal.cancel(answer.id)).state).toBe("cancelled")
    // A running job is asked to stop: it checkpoints first, and the answer says the request was taken.
    expect(await frugal.cancel(first.id)).toMatchObject({ id: first.id, state: "running", cancelRequested: true })
    // A wrong token is refused by the server, and the SDK rejects with the tagged error.
    await expect(frugal.queue({ token: "wrong-token-0123456789" })).rejects.toMatchObject({ _tag: expect.any(String) })
  })

  it("exits 3 naming constraints.deadlineHours for a deadline no placement can meet", async () => {
    const run = await runFrugal(["submit", example("impossible-deadline.yaml"), "--server", planned.url], { env })
    expect(run.code, run.stderr).toBe(3)
    expect(run.stderr).toContain("constraints.deadlineHours")
    expect(run.stderr).not.toMatch(STACK_FRAME)
  })

  it("exits 2 naming the field of a bad workload, an unknown job, a refused token or no server", async () => {
    const bad = writeConfig(home, "bad.yaml", tinyWorkload("bad").replace("parameters: 120K", "parameters: lots"))
    const invalid = await runFrugal(["submit", bad], { env })
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain("workload.model.parameters")
    const unknown = await runFrugal(["cancel", "no-such-job"], { env })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("no job no-such-job in the queue")
    const refused = await runFrugal(["queue"], { env: { ...env, FRUGAL_TOKEN: "not-the-token-at-all" } })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("FRUGAL_TOKEN")
    expect(refused.stderr).not.toContain("not-the-token-at-all")
    const unset = await runFrugal(["queue"], { env: { FRUGAL_HOME: home, FRUGAL_SERVER: "", FRUGAL_TOKEN: TOKEN } })
    expect(unset.code).toBe(2)
    expect(unset.stderr).toContain("FRUGAL_SERVER")
  })

  it("exits 4 when the server cannot be reached", async () => {
    const down = await runFrugal(["queue"], { env: { ...env, FRUGAL_SERVER: "http://127.0.0.1:9" } })
    expect(down.code).toBe(4)
    expect(down.stderr).toContain("frugal server")
    expect(down.stderr).not.toMatch(STACK_FRAME)
  })
})
