/**
 * GPU utilisation as a Prometheus server holding NVIDIA DCGM exporter metrics answers `/api/v1/query_range`
 * (https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries):
 * `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{labels},"values":[[unixSeconds,"value"]]}]}}`,
 * or `{"status":"error","errorType":"bad_data","error":"..."}` with a 4xx/5xx status.
 *
 * Metrics (https://docs.nvidia.com/datacenter/dcgm/latest/dcgm-api/dcgm-api-field-ids.html):
 * `DCGM_FI_DEV_GPU_UTIL` (percent of time a kernel ran) and `DCGM_FI_DEV_FB_USED` (framebuffer used, MiB: the
 * same units as the CloudWatch agent's `nvidia_smi_utilization_gpu` and `nvidia_smi_memory_used`).
 *
 * Labels each series must carry (see docs/waste.md, "GPU utilisation from Prometheus"):
 * - the GPU index: `gpu` (set by dcgm-exporter);
 * - the host: `instance_id` (relabelled from EC2 service discovery's `__meta_ec2_instance_id`), else
 *   `Hostname` (dcgm-exporter), else `instance` (the scrape target);
 * - the EC2 instance type, which prices the GPU-hours: `instance_type` (from `__meta_ec2_instance_type`) or a
 *   Kubernetes node label copied onto the series (`node_kubernetes_io_instance_type`,
 *   `label_node_kubernetes_io_instance_type`, `beta_kubernetes_io_instance_type`).
 */
import type { InvalidInput } from "@frugal/core"
import { Effect, Schema } from "effect"
import type { GpuSample, GpuSeries } from "../CostData.ts"
import { invalid } from "../InputDecoding.ts"

export const DCGM_UTILIZATION_METRIC = "DCGM_FI_DEV_GPU_UTIL"
export const DCGM_MEMORY_METRIC = "DCGM_FI_DEV_FB_USED"
export type DcgmMetric = typeof DCGM_UTILIZATION_METRIC | typeof DCGM_MEMORY_METRIC

/** Label names read for each field, first present wins. */
export const PROMETHEUS_LABELS = {
  gpu: "gpu",
  instanceId: ["instance_id", "Hostname", "instance"],
  instanceType: [
    "instance_type",
    "node_kubernetes_io_instance_type",
    "label_node_kubernetes_io_instance_type",
    "beta_kubernetes_io_instance_type"
  ]
} as const

const GROUP_LABELS = [...PROMETHEUS_LABELS.instanceId, ...PROMETHEUS_LABELS.instanceType, PROMETHEUS_LABELS.gpu]

/** One hour in seconds: the step of the range query and the window each value averages. */
export const HOUR_SECONDS = 3600

/**
 * Hourly means per GPU, like CloudWatch's `Average` over 3,600 s. `avg_over_time(m[1h])` evaluated at `t`
 * averages the samples in `(t − 1h, t]`, so the value at `t` belongs to the hour starting `t − 1h`; the outer
 * `avg by` merges series of one GPU that differ only in other labels (a Kubernetes pod that changed, an
 * exporter restart), which would otherwise count the same GPU-hour twice.
 */
export const dcgmHourlyQuery = (metric: DcgmMetric, selector = ""): string =>
  `avg by (${GROUP_LABELS.join(", ")}) (avg_over_time(${selector === "" ? metric : `${metric}{${selector}}`}[1h]))`

const Sample = Schema.Tuple([Schema.Finite, Schema.String])

export const PrometheusMatrix = Schema.Struct({
  resultType: Schema.Literal("matrix"),
  result: Schema.Array(Schema.Struct({
    metric: Schema.Record(Schema.String, Schema.String),
    values: Schema.Array(Sample)
  }))
})
export type PrometheusMatrix = typeof PrometheusMatrix.Type

/** The envelope of every Prometheus API answer; `warnings` are kept for the report's notes. */
export const QueryRangeResponse = Schema.Union([
  Schema.Struct({
    status: Schema.Literal("success"),
    data: PrometheusMatrix,
    warnings: Schema.optional(Schema.Array(Schema.String))
  }),
  Schema.Struct({
    status: Schema.Literal("error"),
    errorType: Schema.String,
    error: Schema.String
  })
])
export type QueryRangeResponse = typeof QueryRangeResponse.Type

const INSTANCE_TYPE = /^[a-z0-9-]+\.[a-z0-9-]+$/
// Prometheus writes special values as "NaN", "+Inf" and "-Inf".
const SPECIAL_VALUE = /^[+-]?(Inf|NaN)$/

const firstLabel = (labels: Readonly<Record<string, string>>, names: ReadonlyArray<string>): string | undefined =>
  names.map((name) => labels[name]).find((value) => value !== undefined && value !== "")

/**
 * Merges the utilisation and memory matrices into one series per GPU, samples keyed by the start of their
 * hour and sorted by time. A label the mapping needs that is missing is an `InvalidInput` naming it.
 */
export const gpuSeriesFromMatrices = (
  matrices: ReadonlyArray<{ readonly source: string; readonly metric: DcgmMetric; readonly matrix: PrometheusMatrix }>
): Effect.Effect<ReadonlyArray<GpuSeries>, InvalidInput> =>
  Effect.gen(function*() {
    const byGpu = new Map<string, { instanceId: string; instanceType: string; gpuIndex: number; samples: Map<number, { u: number | null; m: number | null }> }>()
    for (const { matrix, metric, source } of matrices) {
      for (const [r, series] of matrix.result.entries()) {
        const path = `data.result[${r}].metric`
        const instanceId = firstLabel(series.metric, PROMETHEUS_LABELS.instanceId)
        if (instanceId === undefined) {
          return yield* invalid(source, `${path}.instance_id`, `a host label: one of ${PROMETHEUS_LABELS.instanceId.join(", ")}`, JSON.stringify(series.metric))
        }
        const instanceType = firstLabel(series.metric, PROMETHEUS_LABELS.instanceType)
        if (instanceType === undefined || !INSTANCE_TYPE.test(instanceType)) {
          return yield* invalid(
            source,
            `${path}.instance_type`,
            `the EC2 instance type of ${instanceId} (like g5.12xlarge) in one of ${PROMETHEUS_LABELS.instanceType.join(", ")}; ` +
              "relabel __meta_ec2_instance_type to instance_type",
            JSON.stringify(series.metric)
          )
        }
        const gpu = series.metric[PROMETHEUS_LABELS.gpu]
        if (gpu === undefined || !/^\d+$/.test(gpu)) {
          return yield* invalid(source, `${path}.gpu`, "the GPU index dcgm-exporter sets (0, 1, ...)", gpu === undefined ? undefined : JSON.stringify(gpu))
        }
        const key = `${instanceId}/${gpu}`
        const gpuSeries = byGpu.get(key) ?? { instanceId, instanceType, gpuIndex: Number(gpu), samples: new Map() }
        byGpu.set(key, gpuSeries)
        for (const [i, [seconds, text]] of series.values.entries()) {
          const number = Number(text)
          if (Number.isNaN(number) && !SPECIAL_VALUE.test(text)) {
            return yield* invalid(source, `data.result[${r}].values[${i}][1]`, "a sample value like \"42.5\", \"NaN\" or \"+Inf\"", JSON.stringify(text))
          }
          const value = Number.isFinite(number) ? number : null
          const hourStartMillis = (seconds - HOUR_SECONDS) * 1000
          const sample = gpuSeries.samples.get(hourStartMillis) ?? { u: null, m: null }
          gpuSeries.samples.set(hourStartMillis, metric === DCGM_UTILIZATION_METRIC ? { ...sample, u: value } : { ...sample, m: value })
        }
      }
    }
    return [...byGpu.values()]
      .map((series): GpuSeries => ({
        instanceId: series.instanceId,
        instanceType: series.instanceType,
        gpuIndex: series.gpuIndex,
        samples: [...series.samples.entries()]
          .sort(([a], [b]) => a - b)
          .map(([millis, sample]): GpuSample => ({ time: new Date(millis).toISOString(), utilizationPct: sample.u, memoryUsedMiB: sample.m }))
      }))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId) || a.gpuIndex - b.gpuIndex)
  })
