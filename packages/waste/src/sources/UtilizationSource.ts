/**
 * Where GPU utilisation comes from: CloudWatch `GetMetricData` over the CloudWatch agent's `nvidia_gpu`
 * metrics (live), or the JSON `aws cloudwatch get-metric-data --metric-data-queries file://metric-queries.json`
 * printed (offline), or nowhere (findings that need it are skipped).
 *
 * The agent must append the InstanceId and InstanceType dimensions (`"append_dimensions"` in its config),
 * so the dynamic label below can name the GPU each series belongs to.
 */
import { CloudWatchClient, type CloudWatchClientConfig, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch"
import type { InvalidInput, RemoteServiceFailure } from "@frugal/core"
import { Context, Effect, Layer, Option, Stream } from "effect"
import type { GpuSeries, Period } from "../CostData.ts"
import { awsCall } from "./AwsCall.ts"
import { readJsonFile } from "./CostSource.ts"
import { gpuSeriesFromResponses, MEMORY_METRIC, UTILIZATION_METRIC } from "./MetricDataResponse.ts"

/** `i-0abc g5.12xlarge 2 nvidia_smi_utilization_gpu`: CloudWatch dynamic labels, one per returned series. */
export const GPU_SERIES_LABEL = "${PROP('Dim.InstanceId')} ${PROP('Dim.InstanceType')} ${PROP('Dim.index')} ${PROP('MetricName')}"

/** The queries Frugal sends; `examples/waste/metric-queries.json` holds the same for the AWS CLI. */
export const gpuMetricQueries = (namespace = "CWAgent"): Array<MetricDataQuery> =>
  [UTILIZATION_METRIC, MEMORY_METRIC].map((metric, index) => ({
    Id: index === 0 ? "utilization" : "memory",
    Expression: `SEARCH('Namespace="${namespace}" MetricName="${metric}"', 'Average', 3600)`,
    Label: GPU_SERIES_LABEL,
    ReturnData: true
  }))

export class UtilizationSource extends Context.Service<UtilizationSource, {
  readonly gpus: (period: Period) => Effect.Effect<ReadonlyArray<GpuSeries>, InvalidInput | RemoteServiceFailure>
}>()("@frugal/waste/UtilizationSource") {
  static readonly layerCloudWatch = (
    config: CloudWatchClientConfig = {},
    options: { readonly namespace?: string } = {}
  ): Layer.Layer<UtilizationSource> =>
    Layer.effect(
      UtilizationSource,
      Effect.gen(function*() {
        const client = yield* Effect.acquireRelease(
          Effect.sync(() => new CloudWatchClient(config)),
          (client) => Effect.sync(() => client.destroy())
        )
        const region = yield* Effect.promise(() => client.config.region()).pipe(Effect.orElseSucceed(() => "default"))
        return UtilizationSource.of({
          gpus: Effect.fn("UtilizationSource.gpus")(function*(period: Period) {
            const pages = yield* Stream.paginate(undefined as string | undefined, (token) =>
              awsCall("CloudWatch", "GetMetricData", region, (abortSignal) =>
                client.send(
                  new GetMetricDataCommand({
                    MetricDataQueries: gpuMetricQueries(options.namespace),
                    StartTime: new Date(`${period.start}T00:00:00Z`),
                    EndTime: new Date(`${period.end}T00:00:00Z`),
                    ScanBy: "TimestampAscending",
                    NextToken: token
                  }),
                  { abortSignal }
                )
              ).pipe(Effect.map((page) => [[page], Option.fromNullishOr(page.NextToken)] as const))
            ).pipe(Stream.runCollect)
            return yield* gpuSeriesFromResponses(
              pages.map((json, index) => ({ source: `CloudWatch GetMetricData page ${index + 1}`, json }))
            )
          })
        })
      })
    )

  static readonly layerFile = (path: string): Layer.Layer<UtilizationSource> =>
    Layer.succeed(
      UtilizationSource,
      UtilizationSource.of({
        gpus: Effect.fn("UtilizationSource.gpus")(function*() {
          const json = yield* readJsonFile(path, { kind: "utilization", flag: "--utilization-file" })
          return yield* gpuSeriesFromResponses([{ source: path, json }])
        })
      })
    )

  static readonly layerNone: Layer.Layer<UtilizationSource> = Layer.succeed(
    UtilizationSource,
    UtilizationSource.of({ gpus: () => Effect.succeed([]) })
  )
}
