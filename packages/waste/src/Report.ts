/**
 * Builds a report from whichever sources are provided (Cost Explorer or files, CloudWatch or a file,
 * the ledger when there is one) and renders it in one of the four formats.
 */
import { InvalidInput, LocalFailure, RemoteServiceFailure, type UnavailablePart } from "@frugal/core"
import { PriceCatalog } from "@frugal/pricing"
import { defaultLedgerPath } from "@frugal/runner"
import { AwsCallSettingsFromEnv } from "@frugal/pricing/aws/call"
import { Effect, Layer } from "effect"
import { analyzeWaste } from "./Analyze.ts"
import type { GpuSeries, LostWork, Period } from "./CostData.ts"
import { reportJson, type WasteReport } from "./Finding.ts"
import { regionOfZone } from "./findings/FindingContext.ts"
import { renderBlockKit } from "./report/BlockKit.ts"
import { renderHtml } from "./report/Html.ts"
import { renderMarkdown } from "./report/Markdown.ts"
import { CostSource } from "./sources/CostSource.ts"
import { LostWorkSource } from "./sources/LostWorkSource.ts"
import { decodePrometheusUrl, PrometheusUtilization } from "./sources/PrometheusUtilization.ts"
import { UtilizationSource } from "./sources/UtilizationSource.ts"
import type { Thresholds } from "./Thresholds.ts"

export const REPORT_FORMATS = ["md", "html", "json", "slack"] as const
export type ReportFormat = typeof REPORT_FORMATS[number]

/** A source that failed, as the report names it. */
const unavailablePart = (source: string, error: RemoteServiceFailure | LocalFailure): UnavailablePart =>
  error._tag === "RemoteServiceFailure"
    ? { service: error.service, operation: error.operation, detail: error.detail }
    : { service: source, operation: error.operation, detail: error.detail }

/**
 * Builds the report from what the sources give. The spend (Cost Explorer's main query, or the files) is required;
 * any other source or call that fails (reservation or savings-plan utilisation, GPU utilisation, the ledger) is
 * named in `report.unavailable` and its findings are left out: a partial report, never a wrong complete one.
 */
export const buildReport = Effect.fn("buildReport")(function*(
  period: Period,
  thresholds: Partial<Thresholds> = {}
): Effect.fn.Return<
  WasteReport,
  InvalidInput | RemoteServiceFailure,
  CostSource | UtilizationSource | LostWorkSource | PriceCatalog
> {
  const reading = yield* CostSource.use((source) => source.costs(period))
  const costs = reading.data
  const unavailable: Array<UnavailablePart> = [...reading.unavailable]
  const orNothing = <A>(source: string, empty: A) => (error: RemoteServiceFailure | LocalFailure) =>
    Effect.sync(() => {
      unavailable.push(unavailablePart(source, error))
      return empty
    })
  const gpus = yield* UtilizationSource.use((source) => source.gpus(costs.period)).pipe(
    Effect.catchTags({
      RemoteServiceFailure: orNothing<ReadonlyArray<GpuSeries>>("GPU utilisation", []),
      LocalFailure: orNothing<ReadonlyArray<GpuSeries>>("GPU utilisation", [])
    })
  )
  const gpusMissing = unavailable.length > reading.unavailable.length
  const ledger = yield* LostWorkSource
  const lostWork = yield* ledger.lostWork(costs.period).pipe(
    Effect.catchTag("LocalFailure", orNothing<ReadonlyArray<LostWork>>("Frugal ledger", []))
  )
  const regions = [...new Set([
    thresholds.defaultRegion ?? "us-east-1",
    ...costs.zones.map((row) => regionOfZone(row.availabilityZone)).filter((region) => region !== "")
  ])]
  const catalog = yield* PriceCatalog.use((prices) => prices.catalog({ regions })).pipe(
    Effect.mapError((error) => new RemoteServiceFailure({ service: "price catalog", operation: "catalog", detail: error.detail }))
  )
  return analyzeWaste({
    costs,
    gpus,
    lostWork,
    catalog,
    thresholds,
    unavailable,
    notes: [
      ...(gpusMissing
        ? ["GPU utilisation could not be read: idle and oversized GPUs not checked."]
        : gpus.length === 0
        ? ["No GPU utilisation data: idle and oversized GPUs not checked."]
        : []),
      ...(ledger.note === null ? [] : [ledger.note])
    ]
  })
})

export const renderReport = (report: WasteReport, format: ReportFormat): string => {
  switch (format) {
    case "md":
      return renderMarkdown(report)
    case "html":
      return renderHtml(report)
    case "json":
      return `${JSON.stringify(reportJson(report), null, 2)}\n`
    case "slack":
      return `${JSON.stringify(renderBlockKit(report), null, 2)}\n`
  }
}

/** `--utilization-file` and `--prometheus-url` as given: at most one, the URL an http(s) URL. */
export const decodeUtilizationFlags = (flags: {
  readonly utilizationFile?: string | undefined
  readonly prometheusUrl?: string | undefined
}): Effect.Effect<{ readonly utilizationFile: string | undefined; readonly prometheusUrl: string | undefined }, InvalidInput> =>
  Effect.gen(function*() {
    if (flags.prometheusUrl === undefined) return { utilizationFile: flags.utilizationFile, prometheusUrl: undefined }
    if (flags.utilizationFile !== undefined) {
      return yield* new InvalidInput({
        source: "--prometheus-url",
        issues: [{ path: "--prometheus-url", expected: "either --utilization-file or --prometheus-url, not both", actual: flags.prometheusUrl }]
      })
    }
    return { utilizationFile: undefined, prometheusUrl: yield* decodePrometheusUrl(flags.prometheusUrl) }
  })

/**
 * The sources a report reads: files when given (offline), else Cost Explorer; GPU utilisation from the
 * file, else the Prometheus server, else CloudWatch (none when offline); the ledger at
 * `$FRUGAL_HOME/ledger.sqlite` (or `ledgerPath`) when it exists.
 */
export const reportSources = (options: {
  readonly ceFiles: ReadonlyArray<string>
  readonly utilizationFile?: string | undefined
  readonly prometheusUrl?: string | undefined
  readonly ledgerPath?: string | undefined
}): Layer.Layer<CostSource | UtilizationSource | LostWorkSource, InvalidInput> => {
  const offline = options.ceFiles.length > 0
  return Layer.mergeAll(
    offline ? CostSource.layerFiles(options.ceFiles) : CostSource.layerCostExplorer(),
    options.utilizationFile !== undefined
      ? UtilizationSource.layerFile(options.utilizationFile)
      : options.prometheusUrl !== undefined
      ? PrometheusUtilization.layer({ url: options.prometheusUrl })
      : offline
      ? UtilizationSource.layerNone
      : UtilizationSource.layerCloudWatch(),
    LostWorkSource.layerLedgerFile(options.ledgerPath ?? defaultLedgerPath(process.env))
  ).pipe(
    // Retries, timeouts and deadline of the live calls: AWS_MAX_ATTEMPTS, FRUGAL_AWS_TIMEOUT_SECONDS, FRUGAL_AWS_DEADLINE_SECONDS.
    Layer.provide(AwsCallSettingsFromEnv)
  )
}
