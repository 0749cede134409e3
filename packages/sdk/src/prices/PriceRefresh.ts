/**
 * `frugal prices refresh` / `Frugal.refreshPrices`: pulls live AWS prices and market data into the disk cache that
 * the `aws` catalog reads, and with the `quotas` kind the account's EC2 vCPU quotas (Service Quotas) that plans and
 * runs are held to, whatever their six-hour cache holds. Whatever was fetched is cached and used; the report names
 * each region and kind that was not refreshed, and why. Loads the AWS SDK (a separate entry point,
 * `@frugal/sdk/prices`).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { InvalidInput, PartialFailure, type RemoteServiceFailure } from "@frugal/core"
import { CatalogCache, type Ec2Quota, EmbeddedCatalog } from "@frugal/pricing"
import {
  type AwsCallFailed,
  AwsCallSettingsFromEnv,
  AwsClients,
  REFRESHABLE_KINDS,
  type RefreshableKind,
  type RefreshEvent as MarketRefreshEvent,
  refreshEc2Quotas,
  refreshMarketData,
  type RefreshSummary,
  stepsPerRegion,
  summarizeRegion,
  toRemoteServiceFailure
} from "@frugal/pricing/aws"

export { REFRESHABLE_KINDS, type RefreshableKind }

/** Not a price: the account's EC2 vCPU quotas, refreshed from Service Quotas rather than with the market data. */
export const QUOTAS_KIND = "quotas"

/** Every kind a refresh takes: the market data's, and the quotas. */
export const PRICE_REFRESH_KINDS: ReadonlyArray<RefreshableKind | typeof QUOTAS_KIND> = [...REFRESHABLE_KINDS, QUOTAS_KIND]

/** A region's kind done or failed (the market data's kinds, or the quotas), or a region's market data done. */
export type RefreshEvent =
  | MarketRefreshEvent
  | { readonly _tag: "KindDone"; readonly region: string; readonly kind: typeof QUOTAS_KIND; readonly items: number }
  | { readonly _tag: "KindFailed"; readonly region: string; readonly kind: typeof QUOTAS_KIND; readonly error: AwsCallFailed }

/** What is pulled unless told otherwise: everything but the placement scores, which need extra permissions. */
export const DEFAULT_REFRESH_KINDS: ReadonlyArray<RefreshableKind> = ["on-demand", "reserved", "savings-plan", "spot"]

export interface RefreshRequest {
  /** AWS region codes (default: the regions already cached, else every region of the embedded snapshot). */
  readonly regions?: string | ReadonlyArray<string> | undefined
  /** What to pull, as a list or comma-separated (default `DEFAULT_REFRESH_KINDS`). */
  readonly kinds?: string | ReadonlyArray<string> | undefined
  /** Regions fetched at once (default 8, 1 to 64). */
  readonly concurrency?: number | undefined
  /** Hours of spot price history to pull for volatility (default 24, at most 90 days). */
  readonly spotHistoryHours?: number | undefined
}

/** What `frugal prices refresh --json` prints. */
export interface RefreshReport {
  readonly status: RefreshSummary["status"]
  readonly cacheDirectory: string
  readonly seconds: number
  readonly oldestDatum: string | null
  readonly regions: ReadonlyArray<{
    readonly region: string
    readonly offers: number
    readonly items: RefreshSummary["regions"][number]["items"]
    readonly oldestDatum: string | null
    readonly malformedItems: number
    /** With the `quotas` kind only: the quotas fetched and cached, or null when they could not be had. */
    readonly quotas?: ReadonlyArray<Pick<Ec2Quota, "code" | "name" | "market" | "vcpus">> | null
    readonly failures: ReadonlyArray<string>
    readonly notRefreshed: ReadonlyArray<{ readonly kind: string; readonly reason: string }>
  }>
}

/** The refresh's report, and how it fell short: nothing fetched (a remote failure), some of it (partial), or null. */
export interface RefreshOutcome {
  readonly report: RefreshReport
  readonly failure: RemoteServiceFailure | PartialFailure | null
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/

const listOf = (value: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  (typeof value === "string" ? value.split(",") : value).map((item) => item.trim()).filter((item) => item !== "")

const text = (value: string | ReadonlyArray<string> | undefined): string => (value === undefined ? "" : typeof value === "string" ? value : value.join(","))

const invalid = (field: string, expected: string, actual: string) => new InvalidInput({ source: field, issues: [{ path: field, expected, actual }] })

/** What a caller hears while the cache refreshes (a progress bar). */
export interface RefreshHooks {
  /** Once the request is checked: the regions about to be refreshed and into which cache directory. */
  readonly onStart?: ((regions: ReadonlyArray<string>, cacheDirectory: string) => Effect.Effect<void>) | undefined
  /** Each region's kind as it is done or fails, with how many of all the steps are done. */
  readonly onEvent?: ((event: RefreshEvent, progress: { readonly done: number; readonly total: number }) => Effect.Effect<void>) | undefined
}

/** Refreshes the cache. */
export const refreshPriceCache = Effect.fn("Frugal.refreshPrices")(function*(
  request: RefreshRequest,
  hooks: RefreshHooks = {}
): Effect.fn.Return<RefreshOutcome, InvalidInput, CatalogCache> {
  const kindList = request.kinds === undefined ? DEFAULT_REFRESH_KINDS : listOf(request.kinds)
  const allowed: ReadonlyArray<string> = PRICE_REFRESH_KINDS
  if (kindList.length === 0 || kindList.some((kind) => !allowed.includes(kind))) {
    return yield* invalid("kinds", `a comma-separated list of ${PRICE_REFRESH_KINDS.join(", ")}`, text(request.kinds))
  }
  const kinds = REFRESHABLE_KINDS.filter((kind) => kindList.includes(kind))
  const refreshQuotas = kindList.includes(QUOTAS_KIND)
  const concurrency = request.concurrency ?? 8
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64)) {
    return yield* invalid("concurrency", "a whole number of regions at once from 1 to 64", String(concurrency))
  }
  const spotHistoryHours = request.spotHistoryHours ?? 24
  // EC2 keeps 90 days of spot price history.
  if (!(Number.isInteger(spotHistoryHours) && spotHistoryHours >= 1 && spotHistoryHours <= 90 * 24)) {
    return yield* invalid("spotHistoryHours", "a whole number of hours from 1 to 2,160", String(spotHistoryHours))
  }
  const cache = yield* CatalogCache
  const regions = request.regions !== undefined
    ? listOf(request.regions)
    : yield* Effect.map(cache.children(["aws"]), (cached) =>
      cached.length > 0 ? cached : [...new Set(EmbeddedCatalog.catalog().offers.map((offer) => offer.region))].sort())
  const badRegions = regions.filter((region) => !REGION_PATTERN.test(region))
  if (badRegions.length > 0 || regions.length === 0) {
    return yield* new InvalidInput({
      source: "regions",
      issues: badRegions.length > 0
        ? badRegions.map((region) => ({ path: "regions", expected: "AWS region codes like us-east-1,eu-west-1", actual: region }))
        : [{ path: "regions", expected: "at least one AWS region code", actual: text(request.regions) }]
    })
  }

  const total = (kinds.length === 0 ? 0 : regions.length * stepsPerRegion(kinds)) + (refreshQuotas ? regions.length : 0)
  let done = 0
  if (hooks.onStart !== undefined) yield* hooks.onStart(regions, cache.directory)
  const onEvent = hooks.onEvent ?? (() => Effect.void)
  const startedAt = yield* Clock.currentTimeMillis
  const summary: RefreshSummary | null = kinds.length === 0 ? null : yield* refreshMarketData(
    { regions, kinds, concurrency, spotHistoryHours },
    (event) => (event._tag === "RegionDone" ? Effect.void : Effect.suspend(() => onEvent(event, { done: ++done, total })))
  ).pipe(Effect.provide(AwsClients.layer), Effect.provide(AwsCallSettingsFromEnv))
  const quotas = refreshQuotas
    ? yield* refreshEc2Quotas(regions, concurrency, (region) =>
      Effect.suspend(() =>
        onEvent(
          region.error === null
            ? { _tag: "KindDone", region: region.region, kind: QUOTAS_KIND, items: region.quotas.length }
            : { _tag: "KindFailed", region: region.region, kind: QUOTAS_KIND, error: region.error },
          { done: ++done, total }
        ))).pipe(Effect.provide(AwsCallSettingsFromEnv))
    : []
  const finishedAt = yield* Clock.currentTimeMillis
  // Without market kinds, each region's row says what its cache already holds (nothing was fetched for it).
  const marketRegions = summary?.regions ??
    (yield* Effect.forEach(regions, (region) =>
      Effect.map(summarizeRegion(region), (cached) => ({ ...cached, items: {}, malformedItems: 0, failures: [], failedKinds: [] }))))
  const quotasOf = (region: string) => quotas.find((entry) => entry.region === region)
  const notRefreshed = [
    ...marketRegions.flatMap((region) => region.failedKinds.map(({ kind, error }) => ({ region: region.region, kind: kind as string, error }))),
    ...quotas.flatMap((entry) => entry.error === null ? [] : [{ region: entry.region, kind: QUOTAS_KIND as string, error: entry.error }])
  ]
  const refreshedSomething = (summary !== null && summary.status !== "failed") || quotas.some((entry) => entry.error === null)
  const oldest = marketRegions.map((region) => region.oldestDatum).filter((value) => value !== null).sort()[0] ?? null
  const report: RefreshReport = {
    status: notRefreshed.length === 0 ? "complete" : refreshedSomething ? "partial" : "failed",
    cacheDirectory: cache.directory,
    seconds: (finishedAt - startedAt) / 1000,
    oldestDatum: oldest,
    regions: marketRegions.map((region) => {
      const quota = quotasOf(region.region)
      return {
        region: region.region,
        offers: region.offers,
        items: region.items,
        oldestDatum: region.oldestDatum,
        malformedItems: region.malformedItems,
        ...(quota === undefined
          ? {}
          : { quotas: quota.quotas === null ? null : quota.quotas.map(({ code, market, name, vcpus }) => ({ code, name, market, vcpus })) }),
        failures: [...region.failures, ...(quota === undefined || quota.error === null ? [] : [quota.error])].map((failure) => failure.message),
        notRefreshed: notRefreshed.filter((entry) => entry.region === region.region).map(({ kind, error }) => ({ kind, reason: error.message }))
      }
    })
  }
  const first = [...marketRegions.flatMap((region) => region.failures), ...notRefreshed.filter((entry) => entry.kind === QUOTAS_KIND).map((entry) => entry.error)][0]
  if (first === undefined) return { report, failure: null }
  if (!refreshedSomething) return { report, failure: toRemoteServiceFailure(first) }
  // Partial: what was fetched is cached and used; say what was not, region by region and kind by kind.
  // Plans fill these gaps from the previous cache or the embedded snapshot (quotas: the previous cache, else unknown).
  return {
    report,
    failure: new PartialFailure({
      subject: "the refresh",
      missing: notRefreshed.map(({ region, kind, error }) => ({
        service: `${region} ${kind}`,
        operation: `(${error.service} ${error.operation})`,
        detail: `${error.errorName}: ${error.detail}; everything else is cached and used`
      }))
    })
  }
})

/** The outcome as an effect that fails the way `frugal prices refresh` exits: 4 when nothing was fetched, 5 when part was. */
export const refreshResult = (outcome: RefreshOutcome): Effect.Effect<RefreshReport, RemoteServiceFailure | PartialFailure> =>
  outcome.failure === null ? Effect.succeed(outcome.report) : Effect.fail(outcome.failure)
