/**
 * `@frugal/server`: `frugal server`'s HTTP API over the scheduler (routes, authentication, the generated OpenAPI
 * document, `scheduler.yaml`). Pages and `/metrics` are routes added beside the API's.
 */
export * from "./Auth.ts"
export * from "./HttpServer.ts"
export * from "./OpenApi.ts"
export * from "./Route.ts"
export * from "./SchedulerRoutes.ts"
export * from "./Serve.ts"
export * from "./ServerConfig.ts"
export * from "./dashboard/DashboardRoutes.ts"
export * from "./metrics/MetricsRoute.ts"
export * from "./metrics/ServerMetrics.ts"
export * from "./metrics/GrafanaDashboard.ts"
