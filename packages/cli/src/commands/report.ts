/**
 * `frugal report [--since 30d] [--ce-file F ...] [--utilization-file F | --prometheus-url URL] [--format md|html|json|slack] [--out FILE]`:
 * where the GPU money went and what to change. Live by default (Cost Explorer, CloudWatch, the ledger);
 * offline with the JSON files the AWS CLI printed; GPU utilisation from Prometheus (DCGM) when given its URL.
 * When a source other than the spend fails, the report is still printed (or written), names what is missing,
 * and the exit code is 5 (partial).
 *
 * `frugal report schedule --cron "0 9 * * MON" --to slack:#channel --to file:DIR`: the same report,
 * delivered every period exactly once by a long-running process.
 *
 * The report is the SDK's (`@frugal/sdk/report`); it and the waste package (AWS SDK, echarts, SQLite) are imported only
 * when one of these runs.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { PartialFailure } from "@frugal/core"
import { writeFileAtomic } from "@frugal/core/io"
import { ledgerFile } from "@frugal/sdk"
import { catalogFlag, catalogLayer } from "../Catalogs.ts"
import { environment } from "../Environment.ts"

const since = Flag.String("since").pipe(
  Flag.withDescription("Period to report: days or weeks before today (30d, 4w) or a start date (2026-11-01)"),
  Flag.withDefault("30d")
)
const ceFile = Flag.String("ce-file").pipe(
  Flag.withDescription(
    "Offline: JSON printed by `aws ce get-cost-and-usage` (grouped by INSTANCE_TYPE,PURCHASE_TYPE / AZ,INSTANCE_TYPE / " +
      "USAGE_TYPE), `get-reservation-utilization` or `get-savings-plans-utilization`; repeat it, or give a directory"
  ),
  Flag.atLeast(0)
)
const utilizationFile = Flag.String("utilization-file").pipe(
  Flag.withDescription("Offline: JSON printed by `aws cloudwatch get-metric-data` for nvidia_smi_* (examples/waste/metric-queries.json)"),
  Flag.optional
)
const prometheusUrl = Flag.String("prometheus-url").pipe(
  Flag.withDescription(
    "GPU utilisation from this Prometheus server scraping NVIDIA dcgm-exporter (DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED); " +
      "series need the labels gpu, instance_id|Hostname|instance and instance_type (docs/waste.md)"
  ),
  Flag.optional
)
const format = Flag.Literals("format", ["md", "html", "json", "slack"]).pipe(
  Flag.withDescription("md (Markdown), html (one self-contained page with charts), json, slack (Block Kit)"),
  Flag.withDefault("md")
)
const out = Flag.String("out").pipe(Flag.withDescription("Write to this file (atomically) instead of stdout"), Flag.optional)

const cron = Flag.String("cron").pipe(
  Flag.withDescription("When to deliver, a cron expression in UTC (default: Mondays 09:00)"),
  Flag.withDefault("0 9 * * MON")
)
const to = Flag.String("to").pipe(
  Flag.withDescription("Where to deliver: slack:#channel (SLACK_BOT_TOKEN) or file:DIR; repeat for several"),
  Flag.atLeast(1)
)

const schedule = Command.make(
  "schedule",
  { cron, to, ceFile, utilizationFile, prometheusUrl, catalog: catalogFlag },
  Effect.fnUntraced(function*(input) {
    const slack = yield* Effect.promise(() => import("@frugal/slack"))
    yield* slack.runScheduledReports({
      cron: input.cron,
      destinations: input.to,
      ceFiles: input.ceFile,
      utilizationFile: Option.getOrUndefined(input.utilizationFile),
      prometheusUrl: Option.getOrUndefined(input.prometheusUrl),
      catalog: catalogLayer(input.catalog),
      ledgerPath: ledgerFile(environment),
      log: (line: string) => Console.error(line)
    })
  })
).pipe(Command.withDescription("Deliver the report on a schedule (cron), each period exactly once; runs until stopped"))

const reportCommand = Command.make(
  "report",
  { since, ceFile, utilizationFile, prometheusUrl, format, out, catalog: catalogFlag },
  Effect.fnUntraced(function*(input) {
    const reports = yield* Effect.promise(() => import("@frugal/sdk/report"))
    const wasteReport = yield* reports.buildWasteReport({
      since: input.since,
      ceFiles: input.ceFile,
      utilizationFile: Option.getOrUndefined(input.utilizationFile),
      prometheusUrl: Option.getOrUndefined(input.prometheusUrl),
      env: environment
    }).pipe(Effect.provide(catalogLayer(input.catalog)))
    const text = reports.renderReport(wasteReport, input.format)
    if (Option.isSome(input.out)) {
      yield* writeFileAtomic(input.out.value, text)
      yield* Console.error(`Wrote ${input.format} report to ${input.out.value}: ${reports.summaryLine(wasteReport)}`)
    } else {
      yield* Console.log(text.replace(/\n$/, ""))
    }
    // The report is out, naming what is missing; the exit code says it is partial (5).
    if (wasteReport.unavailable.length > 0) return yield* new PartialFailure({ subject: "the report", missing: wasteReport.unavailable })
  })
)

export const report = reportCommand.pipe(
  Command.withDescription("Where the GPU money went: idle and oversized GPUs, spot and commitment savings, lost work"),
  Command.withExamples([
    { command: "frugal report --since 30d", description: "Last 30 days from Cost Explorer, CloudWatch and the ledger" },
    {
      command: "frugal report --ce-file examples/waste/cost-explorer --utilization-file examples/waste/gpu-utilization.json " +
        "--format html --out report.html",
      description: "Offline, from files the AWS CLI printed"
    }
  ]),
  Command.withSubcommands([schedule])
)
