/**
 * GPU utilisation as CloudWatch `GetMetricData` returns it (and `aws cloudwatch get-metric-data` prints it):
 * `MetricDataResults[{ Id, Label, Timestamps, Values, StatusCode }]`
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
 *
 * Which GPU a series belongs to travels in its label: the queries Frugal sends (see `GpuMetricQueries.ts`
 * and `examples/waste/metric-queries.json`) use CloudWatch dynamic labels so each series is labelled
 * `<InstanceId> <InstanceType> <gpu index> <metric name>`, e.g. `i-0abc g5.12xlarge 2 nvidia_smi_utilization_gpu`.
 */
import type { InvalidInput } from "@frugal/core"
import { Effect, Schema } from "effect"
import type { GpuSample, GpuSeries } from "../CostData.ts"
import { decodeInput, invalid } from "../InputDecoding.ts"

export const GetMetricDataOutput = Schema.Struct({
  MetricDataResults: Schema.Array(Schema.Struct({
    Id: Schema.optional(Schema.String),
    Label: Schema.String,
    Timestamps: Schema.Array(Schema.Union([Schema.String, Schema.Date])),
    Values: Schema.Array(Schema.Finite),
    StatusCode: Schema.optional(Schema.String)
  })),
  NextToken: Schema.optional(Schema.String)
})
export type GetMetricDataOutput = typeof GetMetricDataOutput.Type

export const UTILIZATION_METRIC = "nvidia_smi_utilization_gpu"
export const MEMORY_METRIC = "nvidia_smi_memory_used"

const LABEL = /^(i-[0-9a-f]+)\s+([a-z0-9-]+\.[a-z0-9-]+)\s+(\d+)\s+(nvidia_smi_utilization_gpu|nvidia_smi_memory_used)$/

const millisOf = (time: string | Date): number => typeof time === "string" ? Date.parse(time) : time.getTime()

/** Merges pages and series of utilisation and memory into one series per GPU, samples sorted by time. */
export const gpuSeriesFromResponses = (
  documents: ReadonlyArray<{ readonly source: string; readonly json: unknown }>
): Effect.Effect<ReadonlyArray<GpuSeries>, InvalidInput> =>
  Effect.gen(function*() {
    const byGpu = new Map<string, { instanceId: string; instanceType: string; gpuIndex: number; samples: Map<string, { u: number | null; m: number | null }> }>()
    for (const { json, source } of documents) {
      const output = yield* decodeInput(GetMetricDataOutput, source)(json)
      for (const [r, result] of output.MetricDataResults.entries()) {
        const match = LABEL.exec(result.Label.trim())
        if (match === null) {
          return yield* invalid(
            source,
            `MetricDataResults[${r}].Label`,
            "`<InstanceId> <InstanceType> <gpu index> <nvidia_smi_utilization_gpu|nvidia_smi_memory_used>` " +
              "(set by the query's dynamic label)",
            JSON.stringify(result.Label)
          )
        }
        if (result.Timestamps.length !== result.Values.length) {
          return yield* invalid(
            source,
            `MetricDataResults[${r}].Values`,
            `as many values as timestamps (${result.Timestamps.length})`,
            String(result.Values.length)
          )
        }
        const [, instanceId = "", instanceType = "", index = "0", metric] = match
        const key = `${instanceId}/${index}`
        const series = byGpu.get(key) ?? { instanceId, instanceType, gpuIndex: Number(index), samples: new Map() }
        byGpu.set(key, series)
        for (const [i, time] of result.Timestamps.entries()) {
          const millis = millisOf(time)
          if (Number.isNaN(millis)) {
            return yield* invalid(source, `MetricDataResults[${r}].Timestamps[${i}]`, "an ISO 8601 time", String(time))
          }
          const iso = new Date(millis).toISOString()
          const value = result.Values[i] ?? null
          const sample = series.samples.get(iso) ?? { u: null, m: null }
          series.samples.set(iso, metric === UTILIZATION_METRIC ? { ...sample, u: value } : { ...sample, m: value })
        }
      }
    }
    return [...byGpu.values()]
      .map((series): GpuSeries => ({
        instanceId: series.instanceId,
        instanceType: series.instanceType,
        gpuIndex: series.gpuIndex,
        samples: [...series.samples.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([time, sample]): GpuSample => ({ time, utilizationPct: sample.u, memoryUsedMiB: sample.m }))
      }))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId) || a.gpuIndex - b.gpuIndex)
  })
