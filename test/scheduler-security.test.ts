/**
 * `frugal server`'s refusals, against the real process on loopback: missing, wrong and other-team tokens; oversized,
 * malformed and mistyped bodies; a workload whose `run.command` is full of shell metacharacters, which runs as plain
 * argv (the characters reach the program, no shell runs them). Each answer's status and message are checked, and no
 * token ever appears in the server's log.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { call, eventually, jobState, type RunningServer, startServer, submit, tinyWorkload, writeConfig } from "./support/frugalServer.ts"

const home = mkdtempSync(join(tmpdir(), "frugal-security-"))
const TOKEN_A = "security-team-a-0123456789"
const TOKEN_B = "security-team-b-9876543210"
const ADMIN = "security-admins-5555555555"
let server: RunningServer
let jobOfA = ""

beforeAll(async () => {
  const config = writeConfig(home, "scheduler.yaml", `
teams:
  - { name: a, tokenEnv: FRUGAL_TOKEN_A, monthlyBudgetUsd: 100, maxGpus: 4 }
  - { name: b, tokenEnv: FRUGAL_TOKEN_B, monthlyBudgetUsd: 100, maxGpus: 4 }
maxGpus: 8
admins: { tokenEnv: FRUGAL_ADMIN_TOKEN }
maxBodyBytes: 4096
passEverySeconds: 0.5
`)
  const infra = writeConfig(home, "infra.yaml", "local: { hourlyPriceUsd: 1 }\n")
  server = await startServer(["--config", config, "--infra", infra], { FRUGAL_HOME: home, FRUGAL_TOKEN_A: TOKEN_A, FRUGAL_TOKEN_B: TOKEN_B, FRUGAL_ADMIN_TOKEN: ADMIN })
  jobOfA = await submit(server.url, TOKEN_A, tinyWorkload("security-a"))
}, 120_000)

afterAll(async () => {
  await server.kill("SIGTERM")
  rmSync(home, { recursive: true, force: true })
})

const ErrorAnswer = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String,
    message: Schema.String,
    issues: Schema.optionalKey(Schema.Array(Schema.Struct({ path: Schema.String, expected: Schema.String, actual: Schema.optionalKey(Schema.String) }))),
    constraint: Schema.optionalKey(Schema.String)
  })
})
const errorOf = (body: unknown) => Schema.decodeUnknownSync(ErrorAnswer)(body).error

describe("frugal server refuses what it must", () => {
  it("answers 401 without a token or with a wrong one, on every route but /healthz", async () => {
    for (const path of ["/api/v1/jobs", "/api/v1/budgets", "/api/v1/openapi.json", `/api/v1/jobs/${jobOfA}`]) {
      const missing = await call(server.url, null, "GET", path)
      expect(missing.status, path).toBe(401)
      expect(errorOf(missing.body)).toEqual({ code: "unauthorized", message: "a bearer token is required" })
      const wrong = await call(server.url, `${TOKEN_A}x`, "GET", path)
      expect(wrong.status, path).toBe(401)
      expect(errorOf(wrong.body).message).toBe("the token is not accepted")
    }
    // A prefix of a real token, an empty bearer and another scheme are all refused.
    expect((await call(server.url, TOKEN_A.slice(0, 10), "GET", "/api/v1/jobs")).status).toBe(401)
    expect((await call(server.url, null, "GET", "/api/v1/jobs", undefined, { authorization: "Bearer " })).status).toBe(401)
    expect((await call(server.url, null, "GET", "/api/v1/jobs", undefined, { authorization: `Basic ${TOKEN_A}` })).status).toBe(401)
    expect((await call(server.url, null, "POST", `/api/v1/jobs/${jobOfA}/cancel`)).status).toBe(401)
    expect((await call(server.url, null, "GET", "/healthz")).status).toBe(200)
  })

  it("answers 403 for another team's job, list, budget or submission; the admins reach every team", async () => {
    const read = await call(server.url, TOKEN_B, "GET", `/api/v1/jobs/${jobOfA}`)
    expect(read.status).toBe(403)
    expect(errorOf(read.body)).toEqual({ code: "forbidden", message: `job ${jobOfA} is another team's` })
    expect((await call(server.url, TOKEN_B, "POST", `/api/v1/jobs/${jobOfA}/cancel`)).status).toBe(403)
    const listed = await call(server.url, TOKEN_B, "GET", "/api/v1/jobs?team=a")
    expect(listed.status).toBe(403)
    const submitted = await call(server.url, TOKEN_B, "POST", "/api/v1/jobs", { workload: tinyWorkload("x"), team: "a" })
    expect(submitted.status).toBe(403)
    expect(errorOf(submitted.body).message).toBe("this token is team b's; it cannot submit for team a")
    // Team b sees neither team a's jobs nor its budget.
    const own = Schema.decodeUnknownSync(Schema.Struct({ jobs: Schema.Array(Schema.Struct({ team: Schema.String })) }))((await call(server.url, TOKEN_B, "GET", "/api/v1/jobs")).body)
    expect(own.jobs.filter((job) => job.team !== "b")).toEqual([])
    const budgets = Schema.decodeUnknownSync(Schema.Struct({ teams: Schema.Array(Schema.Struct({ team: Schema.String })) }))((await call(server.url, TOKEN_B, "GET", "/api/v1/budgets")).body)
    expect(budgets.teams.map((team) => team.team)).toEqual(["b"])
    expect((await call(server.url, ADMIN, "GET", `/api/v1/jobs/${jobOfA}`)).status).toBe(200)
    const adminBudgets = Schema.decodeUnknownSync(Schema.Struct({ teams: Schema.Array(Schema.Struct({ team: Schema.String })) }))((await call(server.url, ADMIN, "GET", "/api/v1/budgets")).body)
    expect(adminBudgets.teams.map((team) => team.team)).toEqual(["a", "b"])
    // An admin must say for which team it submits.
    const unnamed = await call(server.url, ADMIN, "POST", "/api/v1/jobs", { workload: tinyWorkload("x") })
    expect(unnamed.status).toBe(400)
    expect(errorOf(unnamed.body).issues?.[0]?.path).toBe("team")
  })

  it("answers 413 for a body over the limit, 415 for a body that is not JSON, 400 naming each bad field", async () => {
    const large = await call(server.url, TOKEN_A, "POST", "/api/v1/jobs", { workload: `# ${"x".repeat(5000)}\n${tinyWorkload("big")}` })
    expect(large.status).toBe(413)
    expect(errorOf(large.body)).toEqual({ code: "payload_too_large", message: "the body is larger than 4096 bytes" })
    const yamlBody = await call(server.url, TOKEN_A, "POST", "/api/v1/jobs", "workload: x", { "content-type": "application/yaml" })
    expect(yamlBody.status).toBe(415)
    const malformed = await call(server.url, TOKEN_A, "POST", "/api/v1/jobs", "{\"workload\": ")
    expect(malformed.status).toBe(400)
    expect(errorOf(malformed.body).message).toBe("the body is not valid JSON")
    const mistyped = await call(server.url, TOKEN_A, "POST", "/api/v1/jobs", { workload: tinyWorkload("x"), priority: "high", colour: "red" })
    expect(mistyped.status).toBe(400)
    const issues = errorOf(mistyped.body).issues ?? []
    expect(issues.map((issue) => issue.path).sort()).toEqual(["colour", "priority"])
    expect(issues.find((issue) => issue.path === "priority")?.expected).toBe("a whole number from -1000 to 1000")
    const badWorkload = await call(server.url, TOKEN_A, "POST", "/api/v1/jobs", { workload: tinyWorkload("x").replace("parameters: 120K", "parameters: lots") })
    expect(badWorkload.status).toBe(400)
    expect(errorOf(badWorkload.body).issues?.map((issue) => issue.path)).toEqual(["workload.model.parameters"])
    const noBudget = await call(server.url, TOKEN_A, "POST", "/api/v1/jobs", { workload: tinyWorkload("x").replace(/constraints:.*\n/, "") })
    expect(noBudget.status).toBe(400)
    expect(errorOf(noBudget.body).issues?.map((issue) => issue.path)).toEqual(["workload.constraints.budgetUsd"])
    const unknown = await call(server.url, TOKEN_A, "GET", "/api/v1/jobs/no-such-job")
    expect(unknown.status).toBe(404)
    expect((await call(server.url, TOKEN_A, "DELETE", "/api/v1/jobs")).status).toBe(405)
  })

  it("runs a run.command full of shell metacharacters as plain argv: the program gets them, no shell runs them", async () => {
    const out = join(home, "argv.txt")
    const arguments_ = ["; touch PWNED1", "$(touch PWNED2)", "`touch PWNED3`", "| touch PWNED4", "&& touch PWNED5", "'\"", "$HOME", "a\\nb"]
    const workload = JSON.stringify({
      name: "metacharacters",
      kind: "batch",
      batch: { gpuHours: 0.001, referenceGpu: "T4", minGpuMemoryGiB: 1 },
      constraints: { budgetUsd: 0.5 },
      run: { command: ["python3", "-c", "import sys; open(sys.argv[1], 'w').write('\\n'.join(sys.argv[2:]))", out, ...arguments_], workdir: home }
    })
    const id = await submit(server.url, TOKEN_A, workload)
    await eventually("the job to end", 60, async () => {
      const state = (await jobState(server.url, TOKEN_A, id)).state
      return state === "completed" || state === "failed" ? state : undefined
    })
    expect((await jobState(server.url, TOKEN_A, id)).state).toBe("completed")
    expect(readFileSync(out, "utf8").split("\n")).toEqual(arguments_)
    for (const name of ["PWNED1", "PWNED2", "PWNED3", "PWNED4", "PWNED5"]) expect(existsSync(join(home, name)), name).toBe(false)
  })

  it("never writes a token to its log", () => {
    const log = server.log()
    expect(log).toContain("GET /api/v1/jobs 401")
    for (const token of [TOKEN_A, TOKEN_B, ADMIN, TOKEN_A.slice(0, 10)]) expect(log).not.toContain(token)
  })
})
