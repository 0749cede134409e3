/**
 * The dashboard's pages as HTML, without a browser: every value a user chose (job names, teams, reasons, zones) is
 * rendered as text, never as markup; sessions, CSRF tokens and origins are checked as documented.
 */
import type { AttemptRecord } from "@frugal/runner"
import type { JobPageView, ListedJob, OverviewView } from "@frugal/scheduler"
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { makeAuthenticator } from "../src/Auth.ts"
import { loadCharts } from "../src/dashboard/Charts.ts"
import { jobRegions } from "../src/dashboard/JobPage.ts"
import { overviewRegions } from "../src/dashboard/OverviewPage.ts"
import { clearedCookie, csrfFor, login, safeNext, sameOrigin, sessionCookie, sessionOf, validCsrf } from "../src/dashboard/Session.ts"

const XSS = `<script>alert("x")</script><img src=x onerror=alert(1)>"'&`

const listed = (fields: Partial<ListedJob>): ListedJob => ({
  id: "job-1",
  name: "job",
  team: "a",
  state: "queued",
  reason: "budget",
  detail: null,
  priority: 0,
  submittedAtMillis: Date.UTC(2026, 2, 1),
  admittedAtMillis: null,
  endedAtMillis: null,
  expectedCostUsd: 12.5,
  costUsd: 0,
  gpus: 8,
  preemptions: 0,
  cancelRequested: false,
  ...fields
})

const overview: OverviewView = {
  nowMillis: Date.UTC(2026, 2, 2),
  month: "2026-03",
  zoneWindowDays: 30,
  counts: [{ state: "queued", jobs: 1 }, { state: "running", jobs: 1 }, { state: "completed", jobs: 0 }, { state: "failed", jobs: 0 }, { state: "cancelled", jobs: 0 }],
  listing: {
    active: [listed({ id: `id-${XSS}`, name: XSS, detail: `waits: ${XSS}` }), listed({ id: "r", state: "running", team: XSS, reason: null, detail: XSS })],
    ended: []
  },
  teams: [{ team: XSS, monthlyBudgetUsd: 100, spentUsd: 81, reservedUsd: 10, remainingUsd: 9, gpusInUse: 8, maxGpus: 16, runningJobs: 1, queuedJobs: 1 }],
  zones: [{ zone: XSS, interruptions: 2, provisionFailures: 1, failovers: 1, reasons: [{ reason: XSS, attempts: 3 }] }],
  failingJobs: 1,
  lastReport: { destination: `file:${XSS}`, period: { start: "2026-02-01", end: "2026-03-01" }, deliveredAtMillis: Date.UTC(2026, 2, 1, 9) }
}

const attempt = (fields: Partial<AttemptRecord>): AttemptRecord => ({
  id: "att-1",
  jobId: "job-1",
  sequence: 1,
  runner: "ec2",
  placement: {
    runner: "ec2",
    instanceType: "p5.48xlarge",
    region: "us-east-1",
    availabilityZone: XSS,
    purchaseOption: "spot",
    hourlyPriceUsd: 40,
    instanceCount: 1,
    accelerator: "H100",
    acceleratorsPerInstance: 8,
    interruptionsPerHour: 0.1
  },
  checkpointEverySeconds: 600,
  externalId: null,
  pid: null,
  logPath: null,
  startedAtMillis: Date.UTC(2026, 2, 1, 10),
  lastSeenAtMillis: Date.UTC(2026, 2, 1, 11),
  endedAtMillis: Date.UTC(2026, 2, 1, 11),
  exitReason: "interrupted",
  outcome: "interrupted",
  reason: XSS,
  coolDownScope: null,
  exitCode: null,
  exitDetail: null,
  resumedFromStep: null,
  lastStep: 120,
  lastCheckpointStep: 100,
  transferCostUsd: 0,
  costUsd: 40,
  ...fields
})

/** No element or attribute the payload could have opened survives: only its escaped text. */
const expectInert = (markup: string) => {
  expect(markup).not.toContain("<script>alert")
  expect(markup).not.toContain("<img src=x")
  expect(markup).not.toMatch(/<[^>]+\sonerror=/i)
  expect(markup).toContain("&lt;script>alert(&quot;x&quot;)&lt;/script>")
}

describe("the dashboard's pages", () => {
  it("renders job names, teams, reasons, zones and report destinations from users as text, charts included", async () => {
    const charts = await loadCharts()
    const regions = overviewRegions(overview, charts)
    const markup = regions.map((region) => region.html).join("\n")
    expectInert(markup)
    expect(markup).toContain('href="/jobs/id-%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22\'%26"')
    // Two charts, each in its light and dark theme.
    expect(markup.match(/<svg /g)?.length).toBe(4)
    expect(markup).toContain("81.0 %")
    expect(markup).toContain("$12.50")
    expect(markup).toContain('role="alert"')
    expect(regions.map((region) => region.name)).toEqual(["summary", "queue", "ended", "budgets", "zones", "waste"])
  })

  it("renders a job's attempts, reasons and log as text, and offers the cancel form only while it can be cancelled", async () => {
    const charts = await loadCharts()
    const view: JobPageView = {
      job: {
        id: "job-1",
        name: XSS,
        team: "a",
        priority: 3,
        deadlineHours: 48,
        expectedHours: 10,
        expectedCostUsd: 400,
        gpus: 8,
        preemptible: true,
        quotaUse: [],
        placements: [],
        planned: true,
        workloadText: "",
        state: "running",
        reason: null,
        detail: XSS,
        submittedAtMillis: Date.UTC(2026, 2, 1, 9),
        updatedAtMillis: Date.UTC(2026, 2, 1, 10),
        admittedAtMillis: Date.UTC(2026, 2, 1, 10),
        endedAtMillis: null,
        cancelRequested: false,
        preemptRequested: false,
        preemptions: 0,
        costUsd: 0
      },
      costUsd: 52,
      run: undefined,
      lease: undefined,
      attempts: [attempt({}), attempt({ id: "att-2", sequence: 2, endedAtMillis: null, exitReason: null, outcome: "running", reason: null, costUsd: 12 })],
      decisions: [{ jobId: "job-1", timeMillis: Date.UTC(2026, 2, 1, 9), decision: "submitted", reason: null, detail: XSS }],
      checkpoints: [{ attemptId: "att-1", timeMillis: Date.UTC(2026, 2, 1, 10, 50), step: 100, bytes: 3 * 1024 ** 3, blockingSeconds: 1.25 }],
      checkpointCount: 1
    }
    const log = { attempt: 2, tail: { lines: [XSS, "step 120"], truncated: false } }
    const regions = jobRegions(view, "csrf-value", charts, log)
    const markup = regions.map((region) => region.html).join("\n")
    expectInert(markup)
    expect(markup).toContain('name="csrf" value="csrf-value"')
    expect(markup).toContain('id="cancel-job"')
    expect(markup).toContain("3 GiB")
    expect(markup).toContain("$52.00")
    expect(markup).toContain("interrupted")
    const ended = jobRegions({ ...view, job: { ...view.job, state: "completed", endedAtMillis: Date.UTC(2026, 2, 1, 12) } }, "csrf-value", charts, log)
    expect(ended.map((region) => region.html).join("")).not.toContain("cancel-job")
  })
})

describe("dashboard sessions", () => {
  const tokens = [
    { token: Redacted.make("team-a-token-0123456789"), principal: { kind: "team", team: "a" } as const },
    { token: Redacted.make("admins-token-0123456789"), principal: { kind: "admin" } as const }
  ]
  const authenticator = makeAuthenticator(tokens)

  it("keeps the token in an HttpOnly, SameSite=Strict cookie, Secure behind TLS, and reads it back as the same principal", () => {
    const plain = sessionCookie("team-a-token-0123456789", { host: "frugal.example" })
    expect(plain).toMatch(/^frugal_session=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/)
    expect(plain).not.toContain("team-a-token")
    expect(sessionCookie("team-a-token-0123456789", { "x-forwarded-proto": "https" })).toContain("; Secure")
    expect(clearedCookie({})).toContain("Max-Age=0")
    const cookie = plain.split(";")[0] ?? ""
    const session = sessionOf(authenticator, { cookie: `theme=dark; ${cookie}` })
    expect(session?.principal).toEqual({ kind: "team", team: "a" })
    expect(session?.csrf).toBe(csrfFor("team-a-token-0123456789"))
    expect(sessionOf(authenticator, { cookie: "frugal_session=d3Jvbmc" })).toBeNull()
    expect(sessionOf(authenticator, {})).toBeNull()
    expect(login(authenticator, "admins-token-0123456789")).toEqual({ kind: "admin" })
    expect(login(authenticator, "team-a-token-012345678")).toBeNull()
    expect(login(authenticator, "team-a-token-0123456789 x")).toBeNull()
  })

  it("accepts a form only with the session's CSRF token and from the page's own origin", () => {
    const session = { principal: { kind: "team", team: "a" } as const, csrf: csrfFor("team-a-token-0123456789") }
    expect(validCsrf(session, session.csrf)).toBe(true)
    expect(validCsrf(session, csrfFor("admins-token-0123456789"))).toBe(false)
    expect(validCsrf(session, undefined)).toBe(false)
    expect(sameOrigin({ host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080" })).toBe(true)
    expect(sameOrigin({ host: "127.0.0.1:8080" })).toBe(true)
    expect(sameOrigin({ host: "127.0.0.1:8080", origin: "http://evil.example" })).toBe(false)
    expect(sameOrigin({ host: "127.0.0.1:8080", origin: "null" })).toBe(false)
    expect(sameOrigin({ host: "frugal.example", origin: "https://frugal.example", "x-forwarded-proto": "https" })).toBe(true)
    expect(sameOrigin({ host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080", "sec-fetch-site": "cross-site" })).toBe(false)
  })

  it("sends a login only to a path on this server", () => {
    expect(safeNext("/jobs/abc")).toBe("/jobs/abc")
    for (const bad of ["//evil.example/x", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "/login", undefined, "/a b"]) expect(safeNext(bad), String(bad)).toBe("/")
  })
})
