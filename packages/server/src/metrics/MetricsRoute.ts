/**
 * `GET /metrics`: Prometheus text, read from the ledger at each scrape (docs/metrics.md). It needs a bearer token:
 * the scrape token (`metrics.tokenEnv` in scheduler.yaml), which opens nothing else, or the admins'. A team's token
 * is refused: the metrics show every team's spend.
 */
import { metricsSnapshot, type SchedulerSql } from "@frugal/scheduler"
import { Duration, Effect, Semaphore } from "effect"
import { makeAuthenticator } from "../Auth.ts"
import { failure, route, type Route } from "../Route.ts"
import type { ServerConfig } from "../ServerConfig.ts"
import type { ServerMetrics } from "./ServerMetrics.ts"

export const metricsRoute = (config: ServerConfig, metrics: ServerMetrics): Route<SchedulerSql> => {
  const scrapers = makeAuthenticator([
    ...config.tokens.filter((entry) => entry.principal.kind === "admin"),
    ...(config.metricsToken === undefined ? [] : [{ token: config.metricsToken, principal: { kind: "admin" } as const }])
  ])
  const one = Semaphore.makeUnsafe(1)
  return route({
    method: "GET",
    path: "/metrics",
    operationId: "metrics",
    summary: "Prometheus metrics (text format 0.0.4): needs the scrape token or the admins' token",
    auth: false,
    responses: [{ status: 200, description: "Prometheus text exposition format", contentType: "text/plain" }],
    handle: (request) =>
      Effect.gen(function*() {
        if (scrapers.authenticate(request.headers["authorization"]) === null) {
          return yield* failure(401, "unauthorized", request.headers["authorization"] === undefined ? "a bearer token is required" : "the token is not accepted for /metrics")
        }
        // One scrape at a time: each reads the admissions recorded since the one before.
        return yield* one.withPermits(1)(Effect.gen(function*() {
          const [took, snapshot] = yield* Effect.timed(metricsSnapshot(config.policy, metrics.admittedAfter())).pipe(
            Effect.mapError((error) => failure(500, "internal", `the metrics could not be read: ${error.message}`))
          )
          const text = yield* Effect.promise(() => metrics.render(snapshot, Duration.toMillis(took)))
          return { status: 200, body: text, contentType: metrics.contentType }
        }))
      })
  })
}
