/**
 * `frugal prices refresh [--regions R,...] [--kinds on-demand,reserved,savings-plan,spot,scores]`: pulls
 * live AWS prices and market data into the disk cache that `--catalog aws` reads. A progress bar on a
 * terminal (plain lines otherwise, on stderr), then a summary per region on stdout. Whatever was fetched is
 * cached and used. Exit 5 when part of it failed (each region and kind not refreshed is named on stderr,
 * with why); exit 4 when nothing could be fetched.
 *
 * The AWS SDK is imported only when this command runs (`frugal plan` never loads it).
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { InvalidInput, PartialFailure } from "@frugal/core"
import { CatalogCache, EmbeddedCatalog } from "@frugal/pricing"
import type { RefreshEvent } from "@frugal/pricing/aws"
import { within } from "../FlagBounds.ts"
import { renderTable } from "../Table.ts"

const DEFAULT_KINDS = "on-demand,reserved,savings-plan,spot"

const regions = Flag.String("regions").pipe(
  Flag.withDescription("Comma-separated AWS regions (default: the regions already cached, else every GPU region)"),
  Flag.withMetavar("R,..."),
  Flag.optional
)
const kinds = Flag.String("kinds").pipe(
  Flag.withDescription(`What to pull: on-demand, reserved, savings-plan, spot, scores (default ${DEFAULT_KINDS})`),
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

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/

const splitList = (value: string): ReadonlyArray<string> =>
  value.split(",").map((item) => item.trim()).filter((item) => item !== "")

const bar = (done: number, total: number, width = 28): string => {
  const filled = total === 0 ? width : Math.round((done / total) * width)
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${done}/${total}`
}

const refresh = Command.make(
  "refresh",
  { regions, kinds, concurrency, spotHours, json },
  Effect.fnUntraced(function*(input) {
    const aws = yield* Effect.promise(() => import("@frugal/pricing/aws"))
    const kindList = splitList(input.kinds)
    const allowed: ReadonlyArray<string> = aws.REFRESHABLE_KINDS
    const badKinds = kindList.filter((kind) => !allowed.includes(kind))
    if (badKinds.length > 0 || kindList.length === 0) {
      return yield* new InvalidInput({
        source: "--kinds",
        issues: [{ path: "--kinds", expected: `a comma-separated list of ${aws.REFRESHABLE_KINDS.join(", ")}`, actual: input.kinds }]
      })
    }
    const requestedKinds = aws.REFRESHABLE_KINDS.filter((kind) => kindList.includes(kind))
    if (input.concurrency < 1) {
      return yield* new InvalidInput({ source: "--concurrency", issues: [{ path: "--concurrency", expected: "a whole number of at least 1", actual: String(input.concurrency) }] })
    }
    const cache = yield* CatalogCache
    const regionList = Option.isSome(input.regions)
      ? splitList(input.regions.value)
      : yield* Effect.map(cache.children(["aws"]), (cached) =>
        cached.length > 0 ? cached : [...new Set(EmbeddedCatalog.catalog().offers.map((offer) => offer.region))].sort())
    const badRegions = regionList.filter((region) => !REGION_PATTERN.test(region))
    if (badRegions.length > 0 || regionList.length === 0) {
      return yield* new InvalidInput({
        source: "--regions",
        issues: badRegions.length > 0
          ? badRegions.map((region) => ({ path: "--regions", expected: "AWS region codes like us-east-1,eu-west-1", actual: region }))
          : [{ path: "--regions", expected: "at least one AWS region code", actual: input.regions.pipe(Option.getOrElse(() => "")) }]
      })
    }

    const total = regionList.length * aws.stepsPerRegion(requestedKinds)
    let done = 0
    const tty = process.stderr.isTTY === true
    const onEvent = (event: RefreshEvent) =>
      Effect.sync(() => {
        if (event._tag === "RegionDone") return
        done++
        const what = event._tag === "KindDone"
          ? `${event.region} ${event.kind}: ${event.items} item(s)`
          : `${event.region} ${event.kind}: FAILED (${event.error.operation}: ${event.error.errorName})`
        if (tty) process.stderr.write(`\r\u001b[2K${bar(done, total)}  ${what}`)
        else process.stderr.write(`${what}\n`)
      })
    if (!tty) process.stderr.write(`Refreshing ${regionList.length} region(s) into ${cache.directory} ...\n`)
    const summary = yield* aws.refreshMarketData(
      { regions: regionList, kinds: requestedKinds, concurrency: input.concurrency, spotHistoryHours: input.spotHours },
      onEvent
    ).pipe(Effect.provide(aws.AwsClients.layer), Effect.provide(aws.AwsCallSettingsFromEnv))
    if (tty) process.stderr.write("\n")

    const seconds = (Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000
    const oldest = summary.regions.map((region) => region.oldestDatum).filter((value) => value !== null).sort()[0] ?? null
    const failures = summary.regions.flatMap((region) => region.failures)
    if (input.json) {
      yield* Console.log(JSON.stringify({
        status: summary.status,
        cacheDirectory: cache.directory,
        seconds,
        oldestDatum: oldest,
        regions: summary.regions.map((region) => ({
          region: region.region,
          offers: region.offers,
          items: region.items,
          oldestDatum: region.oldestDatum,
          malformedItems: region.malformedItems,
          failures: region.failures.map((failure) => failure.message),
          notRefreshed: region.failedKinds.map(({ kind, error }) => ({ kind, reason: error.message }))
        }))
      }, null, 2))
    } else {
      yield* Console.log([
        `Refreshed ${regionList.length} region(s) in ${seconds.toFixed(1)} s into ${cache.directory}:`,
        "",
        ...renderTable(
          [{ header: "REGION" }, { header: "OFFERS", align: "right" }, { header: "OLDEST DATUM" }, { header: "MALFORMED", align: "right" }, { header: "NOT REFRESHED" }],
          summary.regions.map((region) => [
            region.region,
            `${region.offers}`,
            region.oldestDatum ?? "—",
            `${region.malformedItems}`,
            region.failedKinds.length === 0 ? "—" : region.failedKinds.map(({ kind }) => kind).join(", ")
          ])
        ),
        "",
        `Offers: ${summary.regions.reduce((sum, region) => sum + region.offers, 0)}; oldest datum: ${oldest ?? "none"}.`
      ].join("\n"))
    }
    const first = failures[0]
    if (first === undefined) return
    if (summary.status === "failed") return yield* aws.toRemoteServiceFailure(first)
    // Partial: what was fetched is cached and used; say what was not, region by region and kind by kind.
    // Plans fill these gaps from the previous cache or the embedded snapshot.
    return yield* new PartialFailure({
      subject: "the refresh",
      missing: summary.regions.flatMap((region) =>
        region.failedKinds.map(({ kind, error }) => ({
          service: `${region.region} ${kind}`,
          operation: `(${error.service} ${error.operation})`,
          detail: `${error.errorName}: ${error.detail}; everything else is cached and used`
        }))
      )
    })
  }, (effect) => Effect.provide(effect, CatalogCache.layer))
).pipe(
  Command.withDescription("Pull live AWS prices, spot history and placement scores into the local cache"),
  Command.withExamples([
    { command: "frugal prices refresh --regions us-east-1,us-west-2", description: "Two regions, default kinds" },
    { command: "frugal prices refresh --kinds spot,scores", description: "Only the hourly market data" }
  ])
)

export const prices = Command.make("prices").pipe(
  Command.withDescription("Live AWS prices: refresh the cache used by --catalog aws"),
  Command.withSubcommands([refresh])
)
