/**
 * GPU utilisation from Prometheus serving dcgm-exporter metrics, through the real HTTP client against a
 * loopback server that answers in the API's exact format: label mapping, hour alignment, retries of 503s
 * and timeouts, Prometheus's own errors, and the example week giving the same findings as CloudWatch.
 */
import { assert, describe, it } from "@effect/vitest"
import { InvalidInput, RemoteServiceFailure } from "@frugal/core"
import { EmbeddedCatalog } from "@frugal/pricing"
import { Effect, Exit, Layer } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { buildReport } from "../src/Report.ts"
import { CostSource } from "../src/sources/CostSource.ts"
import { LostWorkSource } from "../src/sources/LostWorkSource.ts"
import { dcgmHourlyQuery } from "../src/sources/PrometheusResponse.ts"
import { decodePrometheusUrl, type PrometheusOptions, PrometheusUtilization, queryRangeUrl } from "../src/sources/PrometheusUtilization.ts"
import { UtilizationSource } from "../src/sources/UtilizationSource.ts"
import { exampleReport, repositoryRoot } from "./fixtures/ExampleReport.ts"
import {
  apiError,
  isUtilizationQuery,
  matrixFromMetricData,
  type PrometheusReply,
  type RangeQuery,
  startLoopbackPrometheus,
  success
} from "./support/LoopbackPrometheus.ts"

const period = { start: "2026-11-02", end: "2026-11-03" }
const periodStart = Date.parse("2026-11-02T00:00:00Z") / 1000
/** The end of hour `h` of the period: where Prometheus puts the mean of that hour. */
const endOfHour = (h: number): number => periodStart + (h + 1) * 3600

const fast: Omit<PrometheusOptions, "url"> = { requestTimeout: "300 millis", retries: 2, retryDelay: "10 millis" }

const serve = (answer: (query: RangeQuery, calls: number) => PrometheusReply) =>
  Effect.acquireRelease(Effect.promise(() => startLoopbackPrometheus(answer)), (server) => Effect.promise(server.close))

const gpusFrom = (options: PrometheusOptions) =>
  UtilizationSource.use((source) => source.gpus(period)).pipe(Effect.provide(PrometheusUtilization.layer(options)))

const utilization = success([
  { metric: { instance_id: "i-0abc", Hostname: "ip-10-0-0-1", instance: "10.0.0.1:9400", instance_type: "g5.12xlarge", gpu: "1" },
    values: [[endOfHour(0), "12.5"], [endOfHour(1), "NaN"]] },
  { metric: { instance_id: "i-0abc", Hostname: "ip-10-0-0-1", instance: "10.0.0.1:9400", instance_type: "g5.12xlarge", gpu: "0" },
    values: [[endOfHour(0), "97"]] },
  // A Kubernetes node: no EC2 instance id, the host from dcgm-exporter, the type from the node's label.
  { metric: { Hostname: "gpu-node-7", instance: "10.1.2.3:9400", node_kubernetes_io_instance_type: "g6e.xlarge", gpu: "0" },
    values: [[endOfHour(0), "36"]] }
])
const memory = success([
  { metric: { instance_id: "i-0abc", Hostname: "ip-10-0-0-1", instance: "10.0.0.1:9400", instance_type: "g5.12xlarge", gpu: "1" },
    values: [[endOfHour(1), "20480"]] },
  { metric: { Hostname: "gpu-node-7", instance: "10.1.2.3:9400", node_kubernetes_io_instance_type: "g6e.xlarge", gpu: "0" },
    values: [[endOfHour(0), "9216"]] }
])

const expectedGpus = [
  { instanceId: "gpu-node-7", instanceType: "g6e.xlarge", gpuIndex: 0, samples: [
    { time: "2026-11-02T00:00:00.000Z", utilizationPct: 36, memoryUsedMiB: 9216 }
  ] },
  { instanceId: "i-0abc", instanceType: "g5.12xlarge", gpuIndex: 0, samples: [
    { time: "2026-11-02T00:00:00.000Z", utilizationPct: 97, memoryUsedMiB: null }
  ] },
  { instanceId: "i-0abc", instanceType: "g5.12xlarge", gpuIndex: 1, samples: [
    { time: "2026-11-02T00:00:00.000Z", utilizationPct: 12.5, memoryUsedMiB: null },
    { time: "2026-11-02T01:00:00.000Z", utilizationPct: null, memoryUsedMiB: 20480 }
  ] }
]

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? exit.cause.reasons.flatMap((reason) => (reason._tag === "Fail" ? [reason.error] : []))[0] : undefined

describe("PrometheusUtilization", () => {
  it.live("reads hourly DCGM utilisation and memory per GPU through query_range, mapping the host and type labels", () =>
    Effect.gen(function*() {
      const server = yield* serve((query) => (isUtilizationQuery(query) ? utilization : memory))
      const gpus = yield* gpusFrom({ ...fast, url: `${server.url}/prometheus`, selector: "job=\"dcgm\"" })
      assert.deepStrictEqual(gpus, expectedGpus)
      assert.strictEqual(server.requests.length, 2)
      const byMetric = [...server.requests].sort((a, b) => Number(isUtilizationQuery(b)) - Number(isUtilizationQuery(a)))
      assert.deepStrictEqual(byMetric, [
        {
          path: "/prometheus/api/v1/query_range",
          query: "avg by (instance_id, Hostname, instance, instance_type, node_kubernetes_io_instance_type, " +
            "label_node_kubernetes_io_instance_type, beta_kubernetes_io_instance_type, gpu) " +
            "(avg_over_time(DCGM_FI_DEV_GPU_UTIL{job=\"dcgm\"}[1h]))",
          start: periodStart + 3600,
          end: periodStart + 24 * 3600,
          step: "3600"
        },
        {
          path: "/prometheus/api/v1/query_range",
          query: dcgmHourlyQuery("DCGM_FI_DEV_FB_USED", "job=\"dcgm\""),
          start: periodStart + 3600,
          end: periodStart + 24 * 3600,
          step: "3600"
        }
      ])
    }))

  it.live("retries a 503 and a request that times out, then reads the answer", () =>
    Effect.gen(function*() {
      const server = yield* serve((query, calls) =>
        isUtilizationQuery(query)
          ? calls === 1 ? apiError(503, "unavailable", "too many queries in flight") : utilization
          : calls === 1 ? "hang" : memory
      )
      const gpus = yield* gpusFrom({ ...fast, url: server.url })
      assert.deepStrictEqual(gpus, expectedGpus)
      assert.strictEqual(server.requests.filter(isUtilizationQuery).length, 2)
      assert.match(server.requests[0]?.query ?? "", /, gpu\) \(avg_over_time\(DCGM_FI_DEV_GPU_UTIL\[1h\]\)\)$/)
      assert.strictEqual(server.requests.filter((query) => !isUtilizationQuery(query)).length, 2)
    }))

  it.live("fails with RemoteServiceFailure after the retries, naming the status and Prometheus's error", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => apiError(503, "unavailable", "storage is starting"))
      const error = failureOf(yield* Effect.exit(gpusFrom({ ...fast, url: server.url })))
      assert.instanceOf(error, RemoteServiceFailure)
      assert.strictEqual(error?.message.includes(`Prometheus at ${server.url} query_range DCGM_FI_DEV_`), true)
      assert.match(error?.message ?? "", /failed: HTTP 503 after 2 retries: unavailable: storage is starting$/)
      // First attempt + 2 retries of the utilisation query; memory is not asked once that failed.
      assert.strictEqual(server.requests.length, 3)
      assert.isTrue(server.requests.every(isUtilizationQuery))
    }))

  it.live("gives up on a server that never answers after the retries", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => "hang")
      const error = failureOf(yield* Effect.exit(gpusFrom({ ...fast, url: server.url, retries: 1 })))
      assert.instanceOf(error, RemoteServiceFailure)
      assert.match(error?.message ?? "", /failed: no answer within 300ms \(after 1 retries\)$/)
      assert.strictEqual(server.requests.length, 2)
    }))

  it.live("reports a rejected query (400 bad_data) at once, without retrying", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => apiError(400, "bad_data", "1:22: parse error: unexpected \"}\""))
      const error = failureOf(yield* Effect.exit(gpusFrom({ ...fast, url: server.url, selector: "job=" })))
      assert.instanceOf(error, RemoteServiceFailure)
      assert.match(error?.message ?? "", /failed: HTTP 400: bad_data: 1:22: parse error: unexpected "}"$/)
      assert.strictEqual(server.requests.length, 1)
    }))

  it.live("reports an answer that is not the API's format, and a 200 whose status is error", () =>
    Effect.gen(function*() {
      const html = yield* serve(() => ({ status: 200, body: "<html>login</html>" }))
      const notApi = failureOf(yield* Effect.exit(gpusFrom({ ...fast, url: html.url })))
      assert.instanceOf(notApi, RemoteServiceFailure)
      assert.match(notApi?.message ?? "", /the answer is not a Prometheus range-query result/)
      const vector = yield* serve(() => ({ status: 200, body: { status: "success", data: { resultType: "vector", result: [] } } }))
      assert.match(failureOf(yield* Effect.exit(gpusFrom({ ...fast, url: vector.url })))?.message ?? "", /not a Prometheus range-query result/)
      const error = yield* serve(() => apiError(200, "execution", "query timed out in expression evaluation"))
      assert.match(failureOf(yield* Effect.exit(gpusFrom({ ...fast, url: error.url })))?.message ?? "", /failed: execution: query timed out/)
      assert.strictEqual(error.requests.length, 1)
    }))

  it.live("names the label a series lacks: the instance type that prices its hours, the GPU index", () =>
    Effect.gen(function*() {
      const noType = yield* serve(() => success([{ metric: { Hostname: "gpu-node-7", gpu: "0" }, values: [[endOfHour(0), "1"]] }]))
      const missingType = failureOf(yield* Effect.exit(gpusFrom({ ...fast, url: noType.url })))
      assert.instanceOf(missingType, InvalidInput)
      assert.strictEqual(missingType?.issues[0]?.path, "data.result[0].metric.instance_type")
      assert.match(missingType?.issues[0]?.expected ?? "", /EC2 instance type of gpu-node-7.*relabel __meta_ec2_instance_type to instance_type/)
      const noGpu = yield* serve(() => success([{ metric: { instance_id: "i-0abc", instance_type: "g5.xlarge" }, values: [] }]))
      const missingGpu = failureOf(yield* Effect.exit(gpusFrom({ ...fast, url: noGpu.url })))
      assert.instanceOf(missingGpu, InvalidInput)
      assert.strictEqual(missingGpu?.issues[0]?.path, "data.result[0].metric.gpu")
      assert.strictEqual(missingGpu?.issues[0]?.actual, undefined)
    }))

  it.live("the example week from Prometheus finds the same idle and oversized GPUs as from CloudWatch", () =>
    Effect.gen(function*() {
      const metricData: unknown = JSON.parse(readFileSync(join(repositoryRoot, "examples/waste/gpu-utilization.json"), "utf8"))
      const server = yield* serve((query) => success(matrixFromMetricData(metricData, query)))
      const fromPrometheus = yield* buildReport({ start: "2026-11-02", end: "2026-11-09" }).pipe(
        Effect.provide(Layer.mergeAll(
          CostSource.layerFiles([join(repositoryRoot, "examples/waste/cost-explorer")]),
          PrometheusUtilization.layer({ ...fast, url: server.url }),
          LostWorkSource.layerNone,
          EmbeddedCatalog.layer
        ))
      )
      const fromCloudWatch = yield* exampleReport
      const gpuFindings = (findings: typeof fromCloudWatch.findings) =>
        findings.filter((finding) => finding.kind === "idle-gpu" || finding.kind === "oversized-gpu")
      assert.deepStrictEqual(gpuFindings(fromPrometheus.findings), gpuFindings(fromCloudWatch.findings))
      assert.closeTo(fromPrometheus.wasteUsd, fromCloudWatch.wasteUsd, 1e-9)
      assert.closeTo(gpuFindings(fromPrometheus.findings).find((finding) => finding.kind === "idle-gpu")?.costUsd ?? 0, 168 * 5.672 / 4, 1e-9)
      assert.strictEqual(server.requests[0]?.end, Date.parse("2026-11-09T00:00:00Z") / 1000)
    }))
})

describe("--prometheus-url", () => {
  it.effect("takes an http(s) base URL, with a path prefix, and rejects anything else naming the flag", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* decodePrometheusUrl("http://prometheus:9090"), "http://prometheus:9090")
      assert.strictEqual(queryRangeUrl("https://metrics.example.com/prometheus"), "https://metrics.example.com/prometheus/api/v1/query_range")
      assert.strictEqual(queryRangeUrl("http://prometheus:9090/"), "http://prometheus:9090/api/v1/query_range")
      for (const bad of ["prometheus:9090x", "ftp://prometheus", "http://p:9090/api/v1/query_range?query=up", "not a url"]) {
        const error = failureOf(yield* Effect.exit(decodePrometheusUrl(bad)))
        assert.instanceOf(error, InvalidInput, bad)
        assert.strictEqual(error?.issues[0]?.path, "--prometheus-url")
        assert.strictEqual(error?.issues[0]?.actual, bad)
      }
    }))
})
