/**
 * The dashboard's routes and `/metrics` over real HTTP on loopback (the server's own router, a SQLite ledger):
 * who gets in, what each principal sees, CSRF-checked forms, the live endpoint's 204 when nothing changed and the
 * changed regions when something did, and the scrape token.
 */
import { Ledger } from "@frugal/runner"
import { type NewQueueJob, QueueSignal, QueueStore, SchedulerSql } from "@frugal/scheduler"
import { Effect, Exit, Layer, ManagedRuntime, Redacted, Schema, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeAuthenticator } from "../src/Auth.ts"
import { dashboardRoutes } from "../src/dashboard/DashboardRoutes.ts"
import { csrfFor, SESSION_COOKIE } from "../src/dashboard/Session.ts"
import { serveHttp } from "../src/HttpServer.ts"
import { metricsRoute } from "../src/metrics/MetricsRoute.ts"
import { makeServerMetrics } from "../src/metrics/ServerMetrics.ts"
import type { ServerConfig } from "../src/ServerConfig.ts"

const TOKEN_A = "dashboard-team-a-0123456789"
const TOKEN_B = "dashboard-team-b-0123456789"
const ADMIN = "dashboard-admins-0123456789"
const SCRAPE = "dashboard-scrape-0123456789"
const XSS_NAME = `<img src=x onerror=alert(1)>`

const config: ServerConfig = {
  policy: {
    teams: [{ name: "a", monthlyBudgetUsd: 100, maxGpus: 8 }, { name: "b", monthlyBudgetUsd: 100, maxGpus: 8 }],
    maxGpus: 16,
    agingPointsPerHour: 0,
    preemption: { enabled: false, minPriorityGap: 10 },
    commitments: []
  },
  passEveryMillis: 1000,
  maxBodyBytes: 65_536,
  tokens: [
    { token: Redacted.make(TOKEN_A), principal: { kind: "team", team: "a" } },
    { token: Redacted.make(TOKEN_B), principal: { kind: "team", team: "b" } },
    { token: Redacted.make(ADMIN), principal: { kind: "admin" } }
  ],
  metricsToken: Redacted.make(SCRAPE)
}

const job = (id: string, team: string, name = id): NewQueueJob => ({
  id,
  name,
  team,
  priority: 0,
  deadlineHours: null,
  expectedHours: 1,
  expectedCostUsd: 2,
  gpus: 1,
  preemptible: true,
  quotaUse: [],
  placements: [],
  planned: false,
  workloadText: `name: ${id}\n`
})

const path = join(mkdtempSync(join(tmpdir(), "frugal-dashboard-")), "ledger.sqlite")
const ledger = Ledger.layerFile(path)
const services = QueueStore.layer.pipe(Layer.provideMerge(Layer.mergeAll(ledger, QueueSignal.layerLocal, SchedulerSql.sqlite(path).pipe(Layer.provide(ledger)))))
const runtime = ManagedRuntime.make(services)
const log: Array<string> = []
let scope: Scope.Closeable
let url = ""

beforeAll(async () => {
  scope = await Effect.runPromise(Scope.make())
  const routes = [metricsRoute(config, makeServerMetrics({ processMetrics: false })), ...dashboardRoutes(config)]
  const port = await runtime.runPromise(
    Scope.provide(scope)(serveHttp(routes, makeAuthenticator(config.tokens), { host: "127.0.0.1", port: 0, maxBodyBytes: 65_536, log: (line) => log.push(line) }))
  )
  url = `http://127.0.0.1:${port}`
  await runtime.runPromise(Effect.gen(function*() {
    const store = yield* QueueStore
    yield* store.submit(job("a-one", "a"))
    yield* store.submit(job("b-one", "b", XSS_NAME))
  }))
}, 60_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await runtime.dispose()
})

const cookieOf = (token: string) => `${SESSION_COOKIE}=${Buffer.from(token).toString("base64url")}`

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { headers, redirect: "manual" })
const postForm = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual"
  })

const Live = Schema.Struct({ v: Schema.String, regions: Schema.Record(Schema.String, Schema.Struct({ html: Schema.String, hash: Schema.String })) })
const live = async (path: string, cookie: string, version = "", have = "") => {
  const response = await get(`${path}?v=${encodeURIComponent(version)}&have=${encodeURIComponent(have)}`, { cookie })
  return { status: response.status, body: response.status === 200 ? Schema.decodeUnknownSync(Live)(await response.json()) : null }
}

describe("the dashboard's routes", () => {
  it("sends a visitor without a session to the login form, and answers 401 where a page's script asks", async () => {
    const overview = await get("/")
    expect([overview.status, overview.headers.get("location")]).toEqual([303, "/login"])
    const jobPage = await get("/jobs/a-one")
    expect([jobPage.status, jobPage.headers.get("location")]).toEqual([303, "/login?next=%2Fjobs%2Fa-one"])
    expect((await get("/live/overview")).status).toBe(401)
    expect((await get("/live/jobs/a-one")).status).toBe(401)
    expect((await get("/", { cookie: cookieOf(`${TOKEN_A}x`) })).status).toBe(303)
    expect((await postForm("/jobs/a-one/cancel", { csrf: "x" })).status).toBe(401)
    const form = await get("/login")
    expect(form.status).toBe(200)
    expect(await form.text()).toContain('type="password"')
  })

  it("logs in with a team's token into an HttpOnly, SameSite=Strict cookie, refuses a wrong one without echoing it", async () => {
    const wrong = await postForm("/login", { token: "not-a-real-token-000", next: "/" })
    expect(wrong.status).toBe(401)
    const page = await wrong.text()
    expect(page).toContain("That token is not accepted.")
    expect(page).not.toContain("not-a-real-token-000")
    expect((await postForm("/login", { token: TOKEN_A }, { origin: "http://evil.example" })).status).toBe(403)
    const right = await postForm("/login", { token: TOKEN_A, next: "/jobs/a-one" }, { origin: url })
    expect(right.status).toBe(303)
    expect(right.headers.get("location")).toBe("/jobs/a-one")
    expect(right.headers.get("set-cookie")).toBe(`${cookieOf(TOKEN_A)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200`)
    const offsite = await postForm("/login", { token: TOKEN_A, next: "//evil.example/" })
    expect(offsite.headers.get("location")).toBe("/")
    for (const token of [TOKEN_A, TOKEN_B, ADMIN, SCRAPE, "not-a-real-token-000"]) expect(log.join("\n")).not.toContain(token)
  })

  it("shows a team its own jobs and the admins every team's, with a content security policy and escaped names", async () => {
    const team = await get("/", { cookie: cookieOf(TOKEN_A) })
    expect(team.status).toBe(200)
    expect(team.headers.get("content-security-policy")).toContain("script-src 'self'")
    expect(team.headers.get("x-frame-options")).toBe("DENY")
    expect(team.headers.get("content-encoding")).toBe("gzip")
    const teamPage = await team.text()
    expect(teamPage).toContain("a-one")
    expect(teamPage).not.toContain("b-one")
    const admin = await (await get("/", { cookie: cookieOf(ADMIN) })).text()
    expect(admin).toContain("b-one")
    expect(admin).toContain("&lt;img src=x onerror=alert(1)>")
    expect(admin).not.toContain(XSS_NAME)
    expect(admin).not.toContain(ADMIN)
    const other = await get("/jobs/b-one", { cookie: cookieOf(TOKEN_A) })
    expect(other.status).toBe(403)
    expect((await get("/jobs/none", { cookie: cookieOf(TOKEN_A) })).status).toBe(404)
    const script = admin.match(/src="(\/assets\/[0-9a-f]+\/dashboard\.js)"/)?.[1] ?? ""
    const asset = await get(script)
    expect([asset.status, asset.headers.get("cache-control")]).toEqual([200, "public, max-age=31536000, immutable"])
    expect((await get("/assets/000000000000/dashboard.js")).status).toBe(404)
  })

  it("answers a live poll with the regions that changed, 204 when nothing did", async () => {
    const cookie = cookieOf(ADMIN)
    const first = await live("/live/overview", cookie)
    expect(first.status).toBe(200)
    const regions = first.body?.regions ?? {}
    expect(Object.keys(regions).sort()).toEqual(["budgets", "ended", "queue", "summary", "waste", "zones"])
    const have = Object.entries(regions).map(([name, region]) => `${name}:${region.hash}`).join(",")
    expect((await live("/live/overview", cookie, first.body?.v, have)).status).toBe(204)
    await runtime.runPromise(Effect.flatMap(Effect.service(QueueStore), (store) => store.submit(job("a-two", "a"))))
    const changed = await live("/live/overview", cookie, first.body?.v, have)
    expect(changed.status).toBe(200)
    expect(Object.keys(changed.body?.regions ?? {}).sort()).toEqual(["budgets", "queue", "summary"])
    expect(changed.body?.regions["queue"]?.html).toContain("a-two")

    const jobFirst = await live("/live/jobs/a-one", cookieOf(TOKEN_A))
    expect(Object.keys(jobFirst.body?.regions ?? {}).sort()).toEqual(["attempts", "checkpoints", "decisions", "job", "log"])
    expect((await live("/live/jobs/a-one", cookieOf(TOKEN_A), jobFirst.body?.v)).status).toBe(204)
    expect((await live("/live/jobs/b-one", cookieOf(TOKEN_A))).status).toBe(403)
  })

  it("cancels a job only from a form carrying the session's CSRF token, sent from this origin, by a principal that may", async () => {
    const cookie = cookieOf(TOKEN_A)
    const state = async (id: string) => (await runtime.runPromise(Effect.flatMap(Effect.service(QueueStore), (store) => store.job(id))))?.state
    expect((await postForm("/jobs/a-one/cancel", { csrf: csrfFor(TOKEN_B) }, { cookie })).status).toBe(403)
    expect((await postForm("/jobs/a-one/cancel", { csrf: csrfFor(TOKEN_A) }, { cookie, origin: "http://evil.example" })).status).toBe(403)
    expect((await postForm("/jobs/a-one/cancel", {}, { cookie })).status).toBe(400)
    expect(await state("a-one")).toBe("queued")
    expect((await postForm("/jobs/b-one/cancel", { csrf: csrfFor(TOKEN_A) }, { cookie })).status).toBe(403)
    expect(await state("b-one")).toBe("queued")
    const done = await postForm("/jobs/a-one/cancel", { csrf: csrfFor(TOKEN_A) }, { cookie, origin: url })
    expect([done.status, done.headers.get("location")]).toEqual([303, "/jobs/a-one"])
    expect(await state("a-one")).toBe("cancelled")
    const out = await postForm("/logout", { csrf: csrfFor(TOKEN_A) }, { cookie, origin: url })
    expect([out.status, out.headers.get("set-cookie")]).toEqual([303, `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`])
  })

  it("opens /metrics to the scrape token and the admins' only", async () => {
    expect((await get("/metrics")).status).toBe(401)
    expect((await get("/metrics", { authorization: `Bearer ${TOKEN_A}` })).status).toBe(401)
    expect((await get("/metrics", { cookie: cookieOf(ADMIN) })).status).toBe(401)
    expect((await get("/metrics", { authorization: `Bearer ${ADMIN}` })).status).toBe(200)
    const scraped = await get("/metrics", { authorization: `Bearer ${SCRAPE}` })
    expect(scraped.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
    const text = await scraped.text()
    expect(text).toContain('frugal_jobs{team="a",state="queued"} 1')
    expect(text).toContain('frugal_jobs{team="a",state="cancelled"} 1')
    expect(text).toContain('frugal_jobs{team="b",state="queued"} 1')
    expect(text).not.toContain("a-one")
  })
})
