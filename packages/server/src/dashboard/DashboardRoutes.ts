/**
 * The dashboard's routes on `frugal server`: `/` (the queue, budgets, zones, waste, services), `/jobs/{id}`, the
 * login form, the cancel and log-out forms, the live endpoints the pages poll, and the pages' own assets. Each
 * parses, checks who may see or do it, calls what `@frugal/scheduler` offers (its read model, `cancelInQueue`) and
 * renders. Pages without a valid session redirect to the login form; live endpoints answer 401.
 *
 * Live updates poll: every `pollMillis` (2 s) a visible page asks its live endpoint with the version it shows and a
 * hash per region. The overview's version is the ledger's change stamp (a few maxima and counts), so an unchanged
 * queue answers 204 without reading anything else; a changed one renders once per version for every reader of the
 * same teams, and sends only the regions whose hash differs (docs/dashboard.md has the measured cost).
 */
import { type Ledger } from "@frugal/runner"
import {
  cancelInQueue,
  jobPageView,
  observationStamp,
  overviewView,
  type QueueSignal,
  type QueueStore,
  type SchedulerSql,
  type TeamScope
} from "@frugal/scheduler"
import { Clock, Effect, Schema } from "effect"
import { createHash } from "node:crypto"
import { gzipSync } from "node:zlib"
import { makeAuthenticator, mayAccessTeam } from "../Auth.ts"
import { type ApiRequest, type ApiResponse, failure, route, type Route } from "../Route.ts"
import type { Principal, ServerConfig } from "../ServerConfig.ts"
import { ASSETS } from "./Assets.ts"
import { loadCharts } from "./Charts.ts"
import { type JobLog, jobRegions, planSection } from "./JobPage.ts"
import { html } from "./Html.ts"
import { page, type RenderedRegion, regionElement } from "./Layout.ts"
import { tailLog } from "./LogTail.ts"
import { loginPage, messagePage } from "./LoginPage.ts"
import { jobLink, overviewRegions, servicesPanel } from "./OverviewPage.ts"
import { clearedCookie, login, safeNext, sameOrigin, type Session, sessionCookie, sessionOf, validCsrf } from "./Session.ts"

export type DashboardServices = QueueStore | Ledger | QueueSignal | SchedulerSql

export interface DashboardOptions {
  /** How often an open page asks for changes (default 2000 ms). */
  readonly pollMillis?: number
}

/** Pages run no script but their own and accept no frame, form target or connection elsewhere. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin"
}

/** Gzipped when the browser accepts it and it is worth it: a page or an update is HTML, which shrinks about tenfold. */
const compressed = (request: ApiRequest<unknown>, text: string, contentType: string, status: number, headers: Readonly<Record<string, string>>): ApiResponse =>
  /\bgzip\b/.test(request.headers["accept-encoding"] ?? "") && text.length > 1024
    ? { status, body: gzipSync(text, { level: 6 }), contentType, headers: { ...headers, "content-encoding": "gzip", vary: "accept-encoding" } }
    : { status, body: text, contentType, headers: { ...headers, vary: "accept-encoding" } }

const htmlResponse = (request: ApiRequest<unknown>, status: number, body: string, headers: Readonly<Record<string, string>> = {}): ApiResponse =>
  compressed(request, body, "text/html; charset=utf-8", status, { ...PAGE_HEADERS, ...headers })

const redirect = (location: string, headers: Readonly<Record<string, string>> = {}): ApiResponse => ({
  status: 303,
  body: "",
  contentType: "text/plain; charset=utf-8",
  headers: { location, ...headers }
})

const internal = (error: { readonly message: string }) => failure(500, "internal", `the dashboard could not read the queue: ${error.message}`)

const scopeOf = (principal: Principal): TeamScope => (principal.kind === "admin" ? "all" : [principal.team])

const LoginForm = Schema.Struct({ token: Schema.String, next: Schema.optionalKey(Schema.String) })
const CsrfForm = Schema.Struct({ csrf: Schema.String })

/** The `have` query: `region:hash,…` as the page last received them. */
const regionsHeld = (request: ApiRequest<unknown>): ReadonlyMap<string, string> =>
  new Map((request.query.get("have") ?? "").split(",").flatMap((part) => {
    const [name, hash] = part.split(":")
    return name === undefined || hash === undefined ? [] : [[name, hash] as const]
  }))

const liveAnswer = (request: ApiRequest<unknown>, version: string, regions: ReadonlyArray<RenderedRegion>): ApiResponse => {
  const held = regionsHeld(request)
  const changed = regions.filter((region) => held.get(region.name) !== region.hash)
  const body = JSON.stringify({ v: version, regions: Object.fromEntries(changed.map((region) => [region.name, { html: region.html, hash: region.hash }])) })
  return compressed(request, body, "application/json; charset=utf-8", 200, {})
}

/** The overview's version: the month (budgets start again on the 1st) and the ledger's change stamp. */
const overviewVersion = Effect.gen(function*() {
  const month = new Date(yield* Clock.currentTimeMillis).toISOString().slice(0, 7)
  return `${month}.${yield* Effect.mapError(observationStamp, internal)}`
})

const digest = (regions: ReadonlyArray<RenderedRegion>): string =>
  createHash("sha256").update(regions.map((region) => region.hash).join(".")).digest("base64url").slice(0, 16)

/** Loads ECharts in the background, so the first page drawn after a start does not wait for it. */
export const preloadDashboard = (): void => {
  loadCharts().catch(() => undefined)
}

export const dashboardRoutes = (config: ServerConfig, options: DashboardOptions = {}): ReadonlyArray<Route<DashboardServices>> => {
  const authenticator = makeAuthenticator(config.tokens)
  const pollMillis = options.pollMillis ?? 2000
  const session = (request: ApiRequest<unknown>): Session | null => sessionOf(authenticator, request.headers)

  // The overview as last rendered per reader scope and ledger version, shared by every page that polls.
  const rendered = new Map<string, { readonly version: string; readonly regions: ReadonlyArray<RenderedRegion> }>()
  const overview = (scope: TeamScope) =>
    Effect.gen(function*() {
      const version = yield* overviewVersion
      const key = scope === "all" ? "*" : scope.join(",")
      const known = rendered.get(key)
      if (known?.version === version) return known
      const view = yield* Effect.mapError(overviewView(config.policy, scope), internal)
      const charts = yield* Effect.promise(loadCharts)
      const fresh = { version, regions: overviewRegions(view, charts) }
      if (rendered.size >= 16) rendered.clear()
      rendered.set(key, fresh)
      return fresh
    })

  const job = (principal: Principal, id: string, csrf: string) =>
    Effect.gen(function*() {
      const view = yield* Effect.mapError(jobPageView(id), internal)
      if (view === undefined) return { refused: 404 as const }
      if (!mayAccessTeam(principal, view.job.team)) return { refused: 403 as const }
      const logged = [...view.attempts].reverse().find((attempt) => attempt.logPath !== null)
      const jobLog: JobLog | null = logged === undefined || logged.logPath === null ? null : { attempt: logged.sequence, tail: yield* tailLog(logged.logPath) }
      const regions = jobRegions(view, csrf, yield* Effect.promise(loadCharts), jobLog)
      return { view, regions, version: digest(regions) }
    })

  const refusedJob = (request: ApiRequest<unknown>, status: 403 | 404, id: string, current: Session) =>
    htmlResponse(request, status, messagePage(status === 404 ? "No such job" : "Another team's job", status === 404 ? `No job ${id} in the queue.` : `Job ${id} belongs to another team.`, current))

  return [
    route({
      method: "GET",
      path: "/",
      operationId: "dashboard",
      summary: "The dashboard: queue, budgets, zones, waste, services",
      auth: false,
      responses: [{ status: 200, description: "HTML", contentType: "text/html" }],
      handle: (request) =>
        Effect.gen(function*() {
          const current = session(request)
          if (current === null) return redirect("/login")
          const { version, regions } = yield* overview(scopeOf(current.principal))
          const body = html`
            <h1>Queue</h1>
            ${regions.map(regionElement)}
            ${servicesPanel()}`
          return htmlResponse(request, 200, page({ title: "Queue", session: current, live: { url: "/live/overview", version, pollMillis } }, body))
        })
    }),
    route({
      method: "GET",
      path: "/login",
      operationId: "loginForm",
      summary: "The dashboard's login form",
      auth: false,
      responses: [{ status: 200, description: "HTML", contentType: "text/html" }],
      handle: (request) =>
        Effect.succeed(session(request) === null ? htmlResponse(request, 200, loginPage({ next: safeNext(request.query.get("next") ?? undefined) })) : redirect("/"))
    }),
    route({
      method: "POST",
      path: "/login",
      operationId: "login",
      summary: "Log in with a token: kept in an HttpOnly, SameSite=Strict cookie",
      auth: false,
      request: LoginForm,
      bodyType: "form",
      responses: [{ status: 303, description: "Logged in" }, { status: 401, description: "The token is not accepted", contentType: "text/html" }],
      handle: (request) =>
        Effect.sync(() => {
          const next = safeNext(request.body.next)
          if (!sameOrigin(request.headers)) return htmlResponse(request, 403, loginPage({ next, error: "This form was sent from another site: refused." }))
          const principal = login(authenticator, request.body.token)
          if (principal === null) return htmlResponse(request, 401, loginPage({ next, error: "That token is not accepted." }))
          return redirect(next, { "set-cookie": sessionCookie(request.body.token, request.headers) })
        })
    }),
    route({
      method: "POST",
      path: "/logout",
      operationId: "logout",
      summary: "Log out: the session cookie is cleared",
      auth: false,
      request: CsrfForm,
      bodyType: "form",
      responses: [{ status: 303, description: "Logged out" }],
      handle: (request) =>
        Effect.sync(() => {
          const current = session(request)
          if (current !== null && (!sameOrigin(request.headers) || !validCsrf(current, request.body.csrf))) {
            return htmlResponse(request, 403, messagePage("Refused", "This form did not come from this dashboard.", current))
          }
          return redirect("/login", { "set-cookie": clearedCookie(request.headers) })
        })
    }),
    route({
      method: "GET",
      path: "/jobs/{id}",
      operationId: "jobPage",
      summary: "A job's page: plan, attempts, checkpoints, decisions, log",
      auth: false,
      responses: [{ status: 200, description: "HTML", contentType: "text/html" }],
      handle: (request) =>
        Effect.gen(function*() {
          const id = request.params["id"] ?? ""
          const current = session(request)
          if (current === null) return redirect(`/login?next=${encodeURIComponent(jobLink(id))}`)
          const found = yield* job(current.principal, id, current.csrf)
          if ("refused" in found) return refusedJob(request, found.refused, id, current)
          const body = html`
            <p><a href="/">← Queue</a></p>
            ${found.regions.map(regionElement)}
            ${planSection(found.view)}`
          const live = { url: `/live${jobLink(id)}`, version: found.version, pollMillis }
          return htmlResponse(request, 200, page({ title: found.view.job.name, session: current, live }, body))
        })
    }),
    route({
      method: "POST",
      path: "/jobs/{id}/cancel",
      operationId: "cancelFromPage",
      summary: "Cancel a job from its page (a form with the session's CSRF token)",
      auth: false,
      request: CsrfForm,
      bodyType: "form",
      responses: [{ status: 303, description: "Back to the job's page" }],
      handle: (request) =>
        Effect.gen(function*() {
          const id = request.params["id"] ?? ""
          const current = session(request)
          if (current === null) return htmlResponse(request, 401, loginPage({ next: jobLink(id), error: "Log in to cancel a job." }))
          if (!sameOrigin(request.headers) || !validCsrf(current, request.body.csrf)) {
            return htmlResponse(request, 403, messagePage("Refused", "This form did not come from this dashboard: nothing was cancelled.", current))
          }
          const found = yield* Effect.mapError(jobPageView(id), internal)
          if (found === undefined) return refusedJob(request, 404, id, current)
          if (!mayAccessTeam(current.principal, found.job.team)) return refusedJob(request, 403, id, current)
          yield* Effect.mapError(cancelInQueue(id), internal)
          return redirect(jobLink(id))
        })
    }),
    route({
      method: "GET",
      path: "/live/overview",
      operationId: "liveOverview",
      summary: "The overview's regions that changed since the version the page shows (204: none)",
      auth: false,
      responses: [{ status: 200, description: "Changed regions" }, { status: 204, description: "Nothing changed" }],
      handle: (request) =>
        Effect.gen(function*() {
          const current = session(request)
          if (current === null) return yield* failure(401, "unauthorized", "log in again")
          if (request.query.get("v") === (yield* overviewVersion)) return { status: 204, body: "", contentType: "text/plain" }
          const { version, regions } = yield* overview(scopeOf(current.principal))
          return liveAnswer(request, version, regions)
        })
    }),
    route({
      method: "GET",
      path: "/live/jobs/{id}",
      operationId: "liveJob",
      summary: "A job page's regions that changed since the version the page shows (204: none)",
      auth: false,
      responses: [{ status: 200, description: "Changed regions" }, { status: 204, description: "Nothing changed" }],
      handle: (request) =>
        Effect.gen(function*() {
          const current = session(request)
          if (current === null) return yield* failure(401, "unauthorized", "log in again")
          const id = request.params["id"] ?? ""
          const found = yield* job(current.principal, id, current.csrf)
          if ("refused" in found) return yield* (found.refused === 404 ? failure(404, "not_found", `no job ${id} in the queue`) : failure(403, "forbidden", `job ${id} is another team's`))
          if (request.query.get("v") === found.version) return { status: 204, body: "", contentType: "text/plain" }
          return liveAnswer(request, found.version, found.regions)
        })
    }),
    route({
      method: "GET",
      path: "/assets/{hash}/{file}",
      operationId: "asset",
      summary: "The dashboard's stylesheet and script (served here: nothing from a CDN)",
      auth: false,
      responses: [{ status: 200, description: "The file" }],
      handle: (request) => {
        const asset = Object.values(ASSETS).find((candidate) => candidate.path === `/assets/${request.params["hash"]}/${request.params["file"]}`)
        return asset === undefined
          ? Effect.fail(failure(404, "not_found", "no such asset"))
          : Effect.succeed({ status: 200, body: asset.text, contentType: asset.contentType, headers: { "cache-control": "public, max-age=31536000, immutable" } })
      }
    })
  ]
}
