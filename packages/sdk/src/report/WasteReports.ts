/**
 * `frugal report` / `Frugal.report`: where the GPU money went and what to change. Live by default (Cost Explorer,
 * CloudWatch, the ledger); offline from the JSON files the AWS CLI printed; GPU utilisation from Prometheus (DCGM)
 * when given its URL. A source other than the spend that fails leaves a partial report naming what is missing
 * (`unavailable`), never a failed call. Loads `@frugal/waste` (AWS SDK, ECharts, SQLite): a separate entry point.
 */
import * as Effect from "effect/Effect"
import type { InvalidInput, RemoteServiceFailure } from "@frugal/core"
import type { PriceCatalog } from "@frugal/pricing"
import { defaultLedgerPath } from "@frugal/runner"
import {
  buildReport,
  decodeUtilizationFlags,
  periodSince,
  REPORT_FORMATS,
  type ReportFormat,
  renderReport,
  reportJson,
  reportSources,
  summaryLine,
  type WasteReport
} from "@frugal/waste"
import type { Environment } from "../Catalogs.ts"

export { REPORT_FORMATS, type ReportFormat, renderReport, summaryLine, type WasteReport }

export interface ReportRequest {
  /** The period: days or weeks before today (`30d`, `4w`) or a start date (`2026-11-01`); default `30d`. */
  readonly since?: string | undefined
  /**
   * Offline: JSON printed by `aws ce get-cost-and-usage` (and the reservation / savings-plan utilisation calls),
   * files or directories. Absent or empty: the live Cost Explorer API.
   */
  readonly ceFiles?: string | ReadonlyArray<string> | undefined
  /** Offline GPU utilisation: JSON printed by `aws cloudwatch get-metric-data` for `nvidia_smi_*`. */
  readonly utilizationFile?: string | undefined
  /** GPU utilisation from this Prometheus server scraping NVIDIA dcgm-exporter (not with `utilizationFile`). */
  readonly prometheusUrl?: string | undefined
  /** The ledger whose interrupted attempts count as lost work (default: `$FRUGAL_HOME/ledger.sqlite`). */
  readonly ledger?: string | undefined
  readonly env: Environment
}

/** What `frugal report --format json` prints. */
export type WasteReportJson = ReturnType<typeof reportJson>

/** Builds the report of the period from the sources the request names, pricing alternatives with the catalog. */
export const buildWasteReport = Effect.fn("Frugal.report")(function*(
  request: ReportRequest
): Effect.fn.Return<WasteReport, InvalidInput | RemoteServiceFailure, PriceCatalog> {
  const period = yield* periodSince(request.since ?? "30d")
  const utilization = yield* decodeUtilizationFlags({ utilizationFile: request.utilizationFile, prometheusUrl: request.prometheusUrl })
  const ceFiles = request.ceFiles === undefined ? [] : typeof request.ceFiles === "string" ? [request.ceFiles] : request.ceFiles
  return yield* buildReport(period).pipe(
    Effect.provide(reportSources({ ceFiles, ...utilization, ledgerPath: request.ledger ?? defaultLedgerPath(request.env) }))
  )
})

/** The report as `frugal report --format json` prints it. */
export const wasteReportJson = (report: WasteReport): WasteReportJson => reportJson(report)
