/**
 * A loopback Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/): records each
 * `/api/v1/query_range` request and answers what the test says: a body with a status, or nothing at all
 * (a server that hangs, to exercise timeouts). Also converts the CloudWatch example file into the matrices
 * Prometheus would return for dcgm-exporter series of the same GPUs.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

export interface RangeQuery {
  readonly path: string
  readonly query: string
  readonly start: number
  readonly end: number
  readonly step: string
}

export type PrometheusReply = { readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> } | "hang"

export interface LoopbackPrometheus {
  readonly url: string
  readonly requests: Array<RangeQuery>
  readonly close: () => Promise<void>
}

export interface MatrixSeries {
  readonly metric: Record<string, string>
  readonly values: ReadonlyArray<readonly [number, string]>
}

export const success = (result: ReadonlyArray<MatrixSeries>): PrometheusReply => ({
  status: 200,
  body: { status: "success", data: { resultType: "matrix", result } }
})

export const apiError = (status: number, errorType: string, error: string): PrometheusReply => ({
  status,
  body: { status: "error", errorType, error }
})

export const isUtilizationQuery = (query: RangeQuery): boolean => query.query.includes("DCGM_FI_DEV_GPU_UTIL")

export const startLoopbackPrometheus = (
  answer: (query: RangeQuery, calls: number) => PrometheusReply
): Promise<LoopbackPrometheus> =>
  new Promise((resolve) => {
    const requests: Array<RangeQuery> = []
    const server: Server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://loopback")
      const params = url.searchParams
      const query: RangeQuery = {
        path: url.pathname,
        query: params.get("query") ?? "",
        start: Number(params.get("start")),
        end: Number(params.get("end")),
        step: params.get("step") ?? ""
      }
      requests.push(query)
      const reply = answer(query, requests.filter((one) => isUtilizationQuery(one) === isUtilizationQuery(query)).length)
      if (reply === "hang") return
      response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
      response.end(JSON.stringify(reply.body))
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })

const LABEL = /^(i-[0-9a-f]+) (\S+) (\d+) (nvidia_smi_utilization_gpu|nvidia_smi_memory_used)$/

/**
 * The dcgm-exporter series Prometheus would hold for the GPUs of a `get-metric-data` answer, as
 * `query_range` returns them for `query`: a value at `t` is the mean of the hour before `t`.
 */
export const matrixFromMetricData = (metricData: unknown, query: RangeQuery): ReadonlyArray<MatrixSeries> => {
  const results: ReadonlyArray<{ Label: string; Timestamps: ReadonlyArray<string>; Values: ReadonlyArray<number> }> =
    Reflect.get(Object(metricData), "MetricDataResults") ?? []
  const wanted = isUtilizationQuery(query) ? "nvidia_smi_utilization_gpu" : "nvidia_smi_memory_used"
  return results.flatMap((result) => {
    const match = LABEL.exec(result.Label)
    if (match === null || match[4] !== wanted) return []
    const [, instanceId = "", instanceType = "", gpu = ""] = match
    const values = result.Timestamps
      .map((time, i) => [Date.parse(time) / 1000 + 3600, String(result.Values[i])] as const)
      .filter(([seconds]) => seconds >= query.start && seconds <= query.end)
      .sort(([a], [b]) => a - b)
    return [{
      metric: { Hostname: `host-${instanceId.slice(-4)}`, instance: "10.0.0.7:9400", instance_id: instanceId, instance_type: instanceType, gpu },
      values
    }]
  })
}
