/**
 * `frugal prices refresh [--regions R,...] [--kinds on-demand,reserved,savings-plan,spot,scores,quotas]`: pulls
 * live AWS prices and market data into the disk cache that `--catalog aws` reads, and with `quotas` the account's
 * EC2 vCPU quotas (Service Quotas) that plans and runs are held to, whatever their six-hour cache holds. A progress bar on a
 * terminal (plain lines otherwise, on stderr), then a summary per region on stdout. Whatever was fetched is
 * cached and used. Exit 5 when part of it failed (each region and kind not refreshed is named on stderr,
 * with why); exit 4 when nothing could be fetched.
 *
 * The refresh is the SDK's (`refreshPriceCache` of `@frugal/sdk/prices`), imported only when this command runs, with
 * the AWS SDK (`frugal plan` never loads it).
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CatalogCache } from "@frugal/pricing"
import type { RefreshEvent } from "@frugal/sdk/prices"
import { withFlagNames } from "../FieldFlags.ts"
import { within } from "../FlagBounds.ts"
import { renderTable } from "../Table.ts"

const DEFAULT_KINDS = "on-demand,reserved,savings-plan,spot"

const regions = Flag.String("regions").pipe(
  Flag.withDescription("Comma-separated AWS regions (default: the regions already cached, else every GPU region)"),
  Flag.withMetavar("R,..."),
  Flag.optional
)
const kinds = Flag.String("kinds").pipe(
  Flag.withDescription(`What to pull: on-demand, reserved, savings-plan, spot, scores, quotas (default ${DEFAULT_KINDS})`),
  Flag.withMetavar("K,..."),
  Flag.withDefault(DEFAULT_KINDS)
)
const concurrency = Flag.Int("concurrency").pipe(
  Flag.withDescription("Regions fetched at once (1 = one after another)"),
  within("concurrency", 1, 64, "regions at once"),
  Flag.withDefault(8)
)
// EC2 keeps 90 days of spot price history.
const spotHours = Flag.Int("spot-history-hours").pipe(
  Flag.withDescription("Hours of spot price history to pull for volatility (at most 90 days)"),
  within("spot-history-hours", 1, 90 * 24, "hours"),
  Flag.withDefault(24)
)
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print the summary as JSON"), Flag.withDefault(false))

const bar = (done: number, total: number, width = 28): string => {
  const filled = total === 0 ? width : Math.round((done / total) * width)
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${done}/${total}`
}

const refresh = Command.make(
  "refresh",
  { regions, kinds, concurrency, spotHours, json },
  Effect.fnUntraced(function*(input) {
    const prices = yield* Effect.promise(() => import("@frugal/sdk/prices"))
    const tty = process.stderr.isTTY === true
    const onEvent = (event: RefreshEvent, progress: { readonly done: number; readonly total: number }) =>
      Effect.sync(() => {
        if (event._tag === "RegionDone") return
        const what = event._tag === "KindDone"
          ? `${event.region} ${event.kind}: ${event.items} item(s)`
          : `${event.region} ${event.kind}: FAILED (${event.error.operation}: ${event.error.errorName})`
        if (tty) process.stderr.write(`\r\u001b[2K${bar(progress.done, progress.total)}  ${what}`)
        else process.stderr.write(`${what}\n`)
      })
    const onStart = (regionList: ReadonlyArray<string>, directory: string) =>
      Effect.sync(() => {
        if (!tty) process.stderr.write(`Refreshing ${regionList.length} region(s) into ${directory} ...\n`)
      })
    const { report, failure } = yield* prices.refreshPriceCache({
      regions: Option.getOrUndefined(input.regions),
      kinds: input.kinds,
      concurrency: input.concurrency,
      spotHistoryHours: input.spotHours
    }, { onStart, onEvent }).pipe(withFlagNames(["regions", "kinds", "concurrency", "spotHistoryHours"], { spotHistoryHours: "--spot-history-hours" }))
    if (tty) process.stderr.write("\n")
    if (input.json) {
      yield* Console.log(JSON.stringify(report, null, 2))
    } else {
      // The QUOTAS column and line only when quotas were asked for (`--kinds ...,quotas`).
      const quotaCounts = report.regions.map((region) => region.quotas === undefined ? undefined : region.quotas === null ? "—" : `${region.quotas.length}`)
      const withQuotas = quotaCounts.some((count) => count !== undefined)
      yield* Console.log([
        `Refreshed ${report.regions.length} region(s) in ${report.seconds.toFixed(1)} s into ${report.cacheDirectory}:`,
        "",
        ...renderTable(
          [
            { header: "REGION" },
            { header: "OFFERS", align: "right" },
            { header: "OLDEST DATUM" },
            { header: "MALFORMED", align: "right" },
            ...(withQuotas ? [{ header: "QUOTAS", align: "right" as const }] : []),
            { header: "NOT REFRESHED" }
          ],
          report.regions.map((region, i) => [
            region.region,
            `${region.offers}`,
            region.oldestDatum ?? "—",
            `${region.malformedItems}`,
            ...(withQuotas ? [quotaCounts[i] ?? "—"] : []),
            region.notRefreshed.length === 0 ? "—" : region.notRefreshed.map(({ kind }) => kind).join(", ")
          ])
        ),
        "",
        `Offers: ${report.regions.reduce((sum, region) => sum + region.offers, 0)}; oldest datum: ${report.oldestDatum ?? "none"}.`,
        ...(withQuotas
          ? [`EC2 vCPU quotas: ${report.regions.reduce((sum, region) => sum + (region.quotas?.length ?? 0), 0)} cached for plans and runs (quotas.json per region).`]
          : [])
      ].join("\n"))
    }
    if (failure !== null) return yield* failure
  }, (effect) => Effect.provide(effect, CatalogCache.layer))
).pipe(
  Command.withDescription("Pull live AWS prices, spot history and placement scores into the local cache"),
  Command.withExamples([
    { command: "frugal prices refresh --regions us-east-1,us-west-2", description: "Two regions, default kinds" },
    { command: "frugal prices refresh --kinds spot,scores", description: "Only the hourly market data" },
    { command: "frugal prices refresh --regions us-east-1 --kinds quotas", description: "The account's EC2 vCPU quotas, now (after a quota increase)" }
  ])
)

export const prices = Command.make("prices").pipe(
  Command.withDescription("Live AWS prices: refresh the cache used by --catalog aws"),
  Command.withSubcommands([refresh])
)
