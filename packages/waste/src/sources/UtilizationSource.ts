/**
 * Where GPU utilisation comes from: CloudWatch `GetMetricData` over the CloudWatch agent's `nvidia_gpu`
 * metrics (live), or the JSON `aws cloudwatch get-metric-data --metric-data-queries file://metric-queries.json`
 * printed (offline), or nowhere (findings that need it are skipped).
 *
 * The agent must append the InstanceId and InstanceType dimensions (`"append_dimensions"` in its config),
 * so the dynamic label below can name the GPU each series belongs to.
 */
import { CloudWatchClient, type CloudWatchClientConfig, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch"
import { type InvalidInput, LocalFailure, type RemoteServiceFailure } from "@frugal/core"
import { awsCall, awsClientOptions, currentAwsCallSettings, toRemoteServiceFailure, withAwsCallSettings } from "@frugal/pricing/aws/call"
import { Context, Effect, Layer, Option, Stream } from "effect"
import type { GpuSeries, Period } from "../CostData.ts"
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
  readonly gpus: (period: Period) => Effect.Effect<ReadonlyArray<GpuSeries>, InvalidInput | RemoteServiceFailure | LocalFailure>
}>()("@frugal/waste/UtilizationSource") {
  /**
   * CloudWatch in the configured region (`AWS_REGION`, the profile). Without a region the layer still builds (so a
   * process that answers other questions starts), and asking it for GPUs fails with a `LocalFailure` that says what
   * to set.
   */
  static readonly layerCloudWatch = (
    config: CloudWatchClientConfig = {},
    options: { readonly namespace?: string } = {}
  ): Layer.Layer<UtilizationSource> =>
    Layer.effect(
      UtilizationSource,
      Effect.gen(function*() {
        const settings = yield* currentAwsCallSettings
        const clientOptions = awsClientOptions(settings.timeouts)
        const client = yield* Effect.acquireRelease(
          Effect.sync(() => new CloudWatchClient({ ...clientOptions, ...config })),
          (client) => Effect.sync(() => client.destroy())
        )
        // The SDK rejects when no region is configured; that is a setting to fix, not a crash.
        const configuredRegion = yield* Effect.tryPromise(() => client.config.region()).pipe(Effect.option)
        return UtilizationSource.of({
          gpus: Effect.fn("UtilizationSource.gpus")(function*(period: Period) {
            if (Option.isNone(configuredRegion)) {
              return yield* new LocalFailure({
                operation: "ask CloudWatch for GPU utilisation",
                detail: "no AWS region is configured: set AWS_REGION (or a region in the AWS profile) to the region of the " +
                  "CloudWatch GPU metrics, or give --utilization-file or --prometheus-url"
              })
            }
            const region = configuredRegion.value
            const pages = yield* Stream.paginate(undefined as string | undefined, (token) =>
              awsCall({ service: "CloudWatch", operation: "GetMetricData", region }, (abortSignal) =>
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
              ).pipe(
                Effect.mapError(toRemoteServiceFailure),
                withAwsCallSettings(settings),
                Effect.map((page) => [[page], Option.fromNullishOr(page.NextToken)] as const)
              )
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
