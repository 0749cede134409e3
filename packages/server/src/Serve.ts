/**
 * `frugal server`: the HTTP API on every replica, and the scheduling loop on the one that leads. Served until the
 * scope closes (Ctrl-C, SIGTERM); a replica that loses the lead stops with an error rather than schedule beside the
 * new leader.
 */
import type { LocalFailure } from "@frugal/core"
import type { LedgerError } from "@frugal/runner"
import { type Leadership, prepareReadModel, type QueueStoreError, runScheduler, type SchedulerSql } from "@frugal/scheduler"
import { Effect, type Scope } from "effect"
import { makeAuthenticator } from "./Auth.ts"
import { dashboardRoutes, preloadDashboard } from "./dashboard/DashboardRoutes.ts"
import { serveHttp } from "./HttpServer.ts"
import { openApiDocument } from "./OpenApi.ts"
import { json, route, type Route } from "./Route.ts"
import { type ApiServices, schedulerRoutes } from "./SchedulerRoutes.ts"
import type { ServerConfig } from "./ServerConfig.ts"
import { metricsRoute } from "./metrics/MetricsRoute.ts"
import { makeServerMetrics } from "./metrics/ServerMetrics.ts"

export interface ServeOptions {
  readonly host: string
  readonly port: number
  readonly config: ServerConfig
  /** The package version, for the OpenAPI document. */
  readonly version: string
  readonly log: (line: string) => void
  /** Called with the port once the API listens (tests, `--port 0`). */
  readonly onListening?: (port: number) => void
}

/** Every route of the server, the OpenAPI document's own included. */
export const serverRoutes = (config: ServerConfig, version: string, health: () => { readonly leader: boolean }): ReadonlyArray<Route<ApiServices>> => {
  const api = schedulerRoutes(config.policy, health)
  let document: Record<string, unknown> | undefined
  const openapi = route({
    method: "GET",
    path: "/api/v1/openapi.json",
    operationId: "openapi",
    summary: "This document: the API generated from its Schemas",
    auth: true,
    responses: [{ status: 200, description: "OpenAPI 3.1" }],
    handle: () => Effect.sync(() => json(200, (document ??= openApiDocument(all, version))))
  })
  const all: ReadonlyArray<Route<ApiServices>> = [...api, openapi]
  return all
}

export const serveScheduler = (
  options: ServeOptions
): Effect.Effect<never, LocalFailure | QueueStoreError | LedgerError, ApiServices | SchedulerSql | Leadership | Scope.Scope> =>
  Effect.gen(function*() {
    const state = { leader: false }
    const metrics = makeServerMetrics()
    // The API (documented in OpenAPI), then /metrics and the dashboard's pages beside it.
    const routes: ReadonlyArray<Route<ApiServices | SchedulerSql>> = [
      ...serverRoutes(options.config, options.version, () => state),
      metricsRoute(options.config, metrics),
      ...dashboardRoutes(options.config)
    ]
    yield* prepareReadModel
    const port = yield* serveHttp(routes, makeAuthenticator(options.config.tokens), {
      host: options.host,
      port: options.port,
      maxBodyBytes: options.config.maxBodyBytes,
      log: options.log
    })
    options.log(`frugal server: listening on http://${options.host}:${port} (dashboard at /, OpenAPI at /api/v1/openapi.json, metrics at /metrics)`)
    options.onListening?.(port)
    preloadDashboard()
    return yield* runScheduler({
      policy: options.config.policy,
      passEveryMillis: options.config.passEveryMillis,
      log: (line) => Effect.sync(() => options.log(line)),
      onLead: Effect.sync(() => {
        state.leader = true
        metrics.setLeader(true)
      }),
      onPass: (millis) => Effect.sync(() => metrics.observePass(millis))
    })
  })

/** The OpenAPI document as docs/openapi.json holds it: two-space JSON with a trailing newline, byte-stable. */
export const openApiText = (version: string): string => {
  const config: ServerConfig = {
    policy: { teams: [], maxGpus: 0, agingPointsPerHour: 0, preemption: { enabled: false, minPriorityGap: 10 }, commitments: [] },
    passEveryMillis: 30_000,
    maxBodyBytes: 1024 * 1024,
    tokens: []
  }
  return `${JSON.stringify(openApiDocument(serverRoutes(config, version, () => ({ leader: false })), version), null, 2)}\n`
}
