/**
 * `frugal report schedule`: parses `--to slack:#channel` / `--to file:DIR`, then runs waste's
 * `runReportSchedule` with deliveries recorded in the ledger file. Slack needs SLACK_BOT_TOKEN.
 */
import { InvalidInput, type LocalFailure, type RemoteServiceFailure } from "@frugal/core"
import type { PriceCatalog } from "@frugal/pricing"
import { defaultLedgerPath } from "@frugal/runner"
import {
  buildReport,
  decodeUtilizationFlags,
  type Destination,
  fileDestination,
  parseCron,
  ReportDeliveries,
  reportSources,
  runReportSchedule
} from "@frugal/waste"
import { WebClient } from "@slack/web-api"
import { Effect, type Layer, Redacted } from "effect"
import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import { slackCredentials } from "./SlackConfig.ts"
import { slackDestination } from "./SlackDelivery.ts"

export interface ScheduledReportOptions {
  readonly cron: string
  readonly destinations: ReadonlyArray<string>
  readonly ceFiles: ReadonlyArray<string>
  readonly utilizationFile?: string | undefined
  /** GPU utilisation from this Prometheus server (dcgm-exporter) instead of CloudWatch. */
  readonly prometheusUrl?: string | undefined
  readonly catalog: Layer.Layer<PriceCatalog, InvalidInput | RemoteServiceFailure>
  readonly ledgerPath?: string | undefined
  readonly log: (line: string) => Effect.Effect<void>
}

const badDestination = (value: string) =>
  new InvalidInput({
    source: "--to",
    issues: [{ path: "--to", expected: "slack:#channel (or slack:C0123456789) or file:DIRECTORY", actual: value }]
  })

export const parseDestinations = (values: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Destination>, InvalidInput> =>
  Effect.gen(function*() {
    const destinations: Array<Destination> = []
    let client: WebClient | undefined
    for (const value of values) {
      const [scheme, ...rest] = value.split(":")
      const target = rest.join(":")
      if (target === "") return yield* badDestination(value)
      if (scheme === "file") {
        const directory = resolve(target)
        yield* Effect.try({ try: () => mkdirSync(directory, { recursive: true }), catch: () => badDestination(value) })
        destinations.push(fileDestination(directory))
      } else if (scheme === "slack") {
        if (client === undefined) {
          const credentials = yield* slackCredentials({ needSigningSecret: false })
          client = new WebClient(Redacted.value(credentials.token), {
            ...(credentials.apiUrl === undefined ? {} : { slackApiUrl: credentials.apiUrl })
          })
        }
        destinations.push(slackDestination(client, target))
      } else {
        return yield* badDestination(value)
      }
    }
    return destinations
  })

export const runScheduledReports = (options: ScheduledReportOptions): Effect.Effect<never, InvalidInput | RemoteServiceFailure | LocalFailure> =>
  Effect.gen(function*() {
    const cron = yield* parseCron(options.cron)
    const destinations = yield* parseDestinations(options.destinations)
    const utilization = yield* decodeUtilizationFlags(options)
    const ledgerPath = options.ledgerPath ?? defaultLedgerPath(process.env)
    yield* options.log(`delivering "${options.cron}" (UTC) to ${destinations.map((d) => d.name).join(", ")}; deliveries in ${ledgerPath}`)
    return yield* runReportSchedule({
      cron,
      destinations,
      report: (period) =>
        buildReport(period).pipe(
          Effect.provide(reportSources({ ceFiles: options.ceFiles, ...utilization, ledgerPath })),
          Effect.provide(options.catalog)
        ),
      log: options.log
    }).pipe(Effect.provide(ReportDeliveries.layerFile(ledgerPath)))
  })
