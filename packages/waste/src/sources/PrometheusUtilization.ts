/**
 * `UtilizationSource` from a Prometheus server (or anything speaking its HTTP API: Thanos, Mimir, VictoriaMetrics)
 * that scrapes NVIDIA's dcgm-exporter: two `GET /api/v1/query_range` requests per report, hourly means of
 * `DCGM_FI_DEV_GPU_UTIL` and `DCGM_FI_DEV_FB_USED` (queries and label mapping in `PrometheusResponse.ts`).
 *
 * The two queries run one after the other. Each request has its own timeout; timeouts, connection failures and 408/429/5xx answers are retried with
 * exponential backoff (a `Retry-After` header lengthens the wait), and what still fails becomes
 * `RemoteServiceFailure` (exit 4) with Prometheus's `errorType` and `error` when it sent them.
 */
import { InvalidInput, RemoteServiceFailure } from "@frugal/core"
import { Cause, Duration, Effect, Layer, Schedule, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import type { Period } from "../CostData.ts"
import {
  DCGM_MEMORY_METRIC,
  DCGM_UTILIZATION_METRIC,
  type DcgmMetric,
  dcgmHourlyQuery,
  gpuSeriesFromMatrices,
  HOUR_SECONDS,
  QueryRangeResponse
} from "./PrometheusResponse.ts"
import { UtilizationSource } from "./UtilizationSource.ts"

export interface PrometheusOptions {
  /** Base URL of the server, with any path prefix: `http://prometheus:9090`, `https://metrics.example.com/prometheus`. */
  readonly url: string
  /** Label matchers added to both metrics, e.g. `job="dcgm-exporter"`. */
  readonly selector?: string
  /** How long one request may take before it is abandoned and retried (30 s). */
  readonly requestTimeout?: Duration.Input
  /** Retries after the first attempt (4). */
  readonly retries?: number
  /** First backoff, doubled after each retry (500 ms: 0.5 + 1 + 2 + 4 s in all). */
  readonly retryDelay?: Duration.Input
}

const seconds = (date: string): number => Date.parse(`${date}T00:00:00Z`) / 1000

/** The `query_range` URL under `base`, keeping a path prefix (`/prometheus` → `/prometheus/api/v1/query_range`). */
export const queryRangeUrl = (base: string): string => new URL("api/v1/query_range", base.endsWith("/") ? base : `${base}/`).href

/** `--prometheus-url`: an http(s) URL, checked before anything is sent. */
export const decodePrometheusUrl = (text: string, flag = "--prometheus-url"): Effect.Effect<string, InvalidInput> => {
  const url = URL.parse(text.trim())
  return url !== null && (url.protocol === "http:" || url.protocol === "https:") && url.search === "" && url.hash === ""
    ? Effect.succeed(text.trim())
    : Effect.fail(
      new InvalidInput({
        source: flag,
        issues: [{ path: flag, expected: "the http(s) base URL of a Prometheus server, like http://prometheus:9090", actual: text }]
      })
    )
}

const describeFailure = (error: unknown, timeout: Duration.Duration): string =>
  Cause.isTimeoutError(error)
    ? `no answer within ${Duration.format(timeout)}`
    : error instanceof Error
    ? error.message
    : String(error)

/** Prometheus's own `errorType: error` from a failed answer's body, when it is in the API's format. */
const errorOfBody = (body: unknown): string | undefined => {
  const decoded = Schema.decodeUnknownOption(QueryRangeResponse)(body)
  return decoded._tag === "Some" && decoded.value.status === "error" ? `${decoded.value.errorType}: ${decoded.value.error}` : undefined
}

const layer = (options: PrometheusOptions): Layer.Layer<UtilizationSource> =>
  Layer.effect(
    UtilizationSource,
    Effect.gen(function*() {
      const timeout = Duration.fromInputUnsafe(options.requestTimeout ?? "30 seconds")
      const retries = options.retries ?? 4
      const client = (yield* HttpClient.HttpClient).pipe(
        HttpClient.mapRequest(HttpClientRequest.acceptJson),
        HttpClient.transformResponse(Effect.timeout(timeout)),
        HttpClient.retryTransient({ schedule: Schedule.exponential(options.retryDelay ?? "500 millis", 2), times: retries })
      )
      const endpoint = queryRangeUrl(options.url)
      const service = `Prometheus at ${options.url}`

      const queryRange = Effect.fn("PrometheusUtilization.queryRange")(function*(metric: DcgmMetric, period: Period) {
        const operation = `query_range ${metric}`
        const failure = (detail: string) => new RemoteServiceFailure({ service, operation, detail })
        const response: HttpClientResponse.HttpClientResponse = yield* client.get(endpoint, {
          urlParams: {
            query: dcgmHourlyQuery(metric, options.selector),
            // Evaluated at the end of each hour of the period (see dcgmHourlyQuery).
            start: String(seconds(period.start) + HOUR_SECONDS),
            end: String(seconds(period.end)),
            step: String(HOUR_SECONDS)
          }
        }).pipe(Effect.mapError((error) => failure(`${describeFailure(error, timeout)} (after ${retries} retries)`)))
        const body = yield* response.json.pipe(Effect.orElseSucceed((): unknown => undefined))
        if (response.status < 200 || response.status >= 300) {
          const transient = [408, 429, 500, 502, 503, 504].includes(response.status)
          return yield* failure(
            `HTTP ${response.status}${transient ? ` after ${retries} retries` : ""}` +
              `: ${errorOfBody(body) ?? "not a Prometheus API answer"}`
          )
        }
        const decoded = yield* Schema.decodeUnknownEffect(QueryRangeResponse)(body).pipe(
          Effect.mapError((error) => failure(`the answer is not a Prometheus range-query result: ${error.message}`))
        )
        if (decoded.status === "error") return yield* failure(`${decoded.errorType}: ${decoded.error}`)
        return { source: `${service} ${operation}`, metric, matrix: decoded.data }
      })

      return UtilizationSource.of({
        gpus: Effect.fn("UtilizationSource.gpus")(function*(period: Period) {
          // One after the other: a server that fails the first query is not asked the second.
          const utilization = yield* queryRange(DCGM_UTILIZATION_METRIC, period)
          const memory = yield* queryRange(DCGM_MEMORY_METRIC, period)
          return yield* gpuSeriesFromMatrices([utilization, memory])
        })
      })
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))

/** GPU utilisation from Prometheus serving DCGM metrics. */
export const PrometheusUtilization = { layer } as const
