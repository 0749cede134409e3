/**
 * Pulls live market data for a set of regions into the disk cache: regions in parallel (bounded), and
 * within a region the independent calls in parallel too. Each kind of each region is written as soon as it
 * arrives: a call that still fails after its retries (or data AWS does not publish for a region, such as a
 * missing savings-plan price list) is recorded against its region and kind, and everything else is kept.
 * The summary says whether the refresh was complete, partial or failed outright.
 */
import { Clock, Effect, Option } from "effect"
import { CatalogCache } from "../CatalogCache.ts"
import { AwsClients } from "./AwsClients.ts"
import { AwsCallFailed } from "./AwsCall.ts"
import { fetchGpuInstanceTypes, fetchPlacementScores, fetchSpotMarket, fetchZones } from "./Ec2Api.ts"
import { marketDataSchema, type MarketDataKind, type MarketDataOf, type RefreshableKind } from "./MarketData.ts"
import { fetchProductRates, fetchSavingsPlanRates } from "./PricingApi.ts"

export interface RefreshOptions {
  readonly regions: ReadonlyArray<string>
  readonly kinds: ReadonlyArray<RefreshableKind>
  /** Regions fetched at once; 1 is the sequential baseline. */
  readonly concurrency: number
  /** Spot price history window. */
  readonly spotHistoryHours: number
}

export const DEFAULT_REFRESH_CONCURRENCY = 8
export const DEFAULT_SPOT_HISTORY_HOURS = 24

export type RefreshEvent =
  | { readonly _tag: "KindDone"; readonly region: string; readonly kind: MarketDataKind; readonly items: number }
  | { readonly _tag: "KindFailed"; readonly region: string; readonly kind: MarketDataKind; readonly error: AwsCallFailed }
  | { readonly _tag: "RegionDone"; readonly summary: RegionRefresh }

/** A kind of a region's data that was not refreshed, and why. */
export interface KindFailure {
  readonly kind: MarketDataKind
  readonly error: AwsCallFailed
}

export interface RegionRefresh {
  readonly region: string
  /** Offers the region's cached data now yields (on-demand + reserved + savings-plan + spot zones). */
  readonly offers: number
  /** Items fetched per kind in this refresh. */
  readonly items: Partial<Record<MarketDataKind, number>>
  /** Earliest `fetchedAt` among the region's cached kinds after the refresh (ISO), null when nothing is cached. */
  readonly oldestDatum: string | null
  readonly malformedItems: number
  readonly failures: ReadonlyArray<AwsCallFailed>
  /** Each kind that was not refreshed, with the failure (one call can fail two kinds: on-demand and reserved). */
  readonly failedKinds: ReadonlyArray<KindFailure>
}

/**
 * `complete`: every kind of every region was refreshed. `partial`: some were, and are cached; the rest (named in
 * each region's `failedKinds`) keep their previous cache or fall back. `failed`: nothing was refreshed.
 */
export type RefreshStatus = "complete" | "partial" | "failed"

export interface RefreshSummary {
  readonly regions: ReadonlyArray<RegionRefresh>
  readonly status: RefreshStatus
  readonly startedAt: string
  readonly finishedAt: string
}

/**
 * Whether a refresh got everything, some of it, or nothing of what was asked for (`kinds`; the zones and instance
 * types that come with any kind do not count as a result on their own).
 */
export const refreshStatus = (regions: ReadonlyArray<RegionRefresh>, kinds: ReadonlyArray<RefreshableKind>): RefreshStatus => {
  const failed = regions.some((region) => region.failedKinds.length > 0)
  if (!failed) return "complete"
  const asked = new Set<string>(kinds)
  return regions.some((region) => Object.keys(region.items).some((kind) => asked.has(kind))) ? "partial" : "failed"
}

/** Steps per region a progress bar counts: the instance-type/zone step plus one per requested kind. */
export const stepsPerRegion = (kinds: ReadonlyArray<RefreshableKind>): number => 1 + new Set(kinds).size

/** Cache key of one region's kind: `aws/<region>/<kind>.json`. */
export const cacheKey = (region: string, kind: MarketDataKind): ReadonlyArray<string> => ["aws", region, kind]

export const readCached = <K extends MarketDataKind>(region: string, kind: K) =>
  Effect.flatMap(CatalogCache, (cache) => cache.read(cacheKey(region, kind), marketDataSchema(kind)))

const refreshRegion = (
  region: string,
  options: RefreshOptions,
  onEvent: (event: RefreshEvent) => Effect.Effect<void>
): Effect.Effect<RegionRefresh, never, AwsClients | CatalogCache> =>
  Effect.gen(function*() {
    const cache = yield* CatalogCache
    const kinds = new Set(options.kinds)
    const items: Partial<Record<MarketDataKind, number>> = {}
    const failures: Array<AwsCallFailed> = []
    const failedKinds: Array<KindFailure> = []
    let malformedItems = 0
    const fetchedAt = new Date(yield* Clock.currentTimeMillis)

    const store = <K extends MarketDataKind>(kind: K, data: MarketDataOf<K>, count: number) =>
      cache.write(cacheKey(region, kind), marketDataSchema(kind), {
        fetchedAt: fetchedAt.toISOString(),
        data
      }).pipe(
        Effect.catch((error) => Effect.logWarning(error.message)),
        Effect.andThen(Effect.sync(() => {
          items[kind] = count
        })),
        Effect.andThen(onEvent({ _tag: "KindDone", region, kind, items: count }))
      )

    const recordFailure = (kind: MarketDataKind) => (error: AwsCallFailed) =>
      Effect.sync(() => {
        if (!failures.includes(error)) failures.push(error)
        failedKinds.push({ kind, error })
      }).pipe(Effect.andThen(onEvent({ _tag: "KindFailed", region, kind, error })))

    // Zones and GPU specs first: spot needs the zone IDs, scores and savings plans need the type list.
    const metadata = yield* Effect.all([fetchZones(region), fetchGpuInstanceTypes(region)], { concurrency: 2 }).pipe(
      Effect.map(([zones, instanceTypes]) => ({ zones, instanceTypes })),
      Effect.tap((data) => store("instance-types", data, data.instanceTypes.length)),
      Effect.map(Option.some),
      Effect.catch((error) => recordFailure("instance-types")(error).pipe(Effect.as(Option.none())))
    )
    const cachedMetadata = Option.isSome(metadata)
      ? metadata
      : Option.map(yield* readCached(region, "instance-types"), (entry) => entry.data)
    const zones = Option.match(cachedMetadata, { onNone: () => [], onSome: (data) => data.zones })
    const gpuTypes = new Set(Option.match(cachedMetadata, { onNone: () => [], onSome: (data) => data.instanceTypes.map((t) => t.name) }))

    const products = kinds.has("on-demand") || kinds.has("reserved")
      ? fetchProductRates(region).pipe(
        Effect.tap((rates) => Effect.sync(() => { malformedItems += rates.malformedItems })),
        Effect.tap((rates) => kinds.has("on-demand") ? store("on-demand", rates.onDemand, rates.onDemand.length) : Effect.void),
        Effect.tap((rates) => kinds.has("reserved") ? store("reserved", rates.reserved, rates.reserved.length) : Effect.void),
        Effect.catch((error) =>
          Effect.all([
            kinds.has("on-demand") ? recordFailure("on-demand")(error) : Effect.void,
            kinds.has("reserved") ? recordFailure("reserved")(error) : Effect.void
          ])
        )
      )
      : Effect.void

    const savingsPlans = kinds.has("savings-plan")
      ? fetchSavingsPlanRates(region, (type) => gpuTypes.size === 0 ? /^[gp]/.test(type) : gpuTypes.has(type)).pipe(
        Effect.tap((data) => store("savings-plan", data, data.rates.length)),
        Effect.catch(recordFailure("savings-plan"))
      )
      : Effect.void

    const spotAndScores = Effect.gen(function*() {
      let spotTypes: ReadonlyArray<string> = [...gpuTypes]
      if (kinds.has("spot")) {
        const spot = yield* fetchSpotMarket(region, options.spotHistoryHours, fetchedAt, zones).pipe(
          Effect.tap((data) => store("spot", data, data.length)),
          Effect.map(Option.some),
          Effect.catch((error) => recordFailure("spot")(error).pipe(Effect.as(Option.none())))
        )
        if (Option.isSome(spot)) spotTypes = [...new Set(spot.value.map((market) => market.instanceType))]
      }
      if (kinds.has("scores")) {
        yield* fetchPlacementScores(region, spotTypes, 4).pipe(
          Effect.tap((data) => store("scores", data, data.length)),
          Effect.catch(recordFailure("scores"))
        )
      }
    })

    yield* Effect.all([products, savingsPlans, spotAndScores], { concurrency: options.concurrency > 1 ? 3 : 1, discard: true })

    const summary = yield* summarizeRegion(region)
    const result: RegionRefresh = { ...summary, items, malformedItems, failures, failedKinds }
    yield* onEvent({ _tag: "RegionDone", summary: result })
    return result
  })

/** Offers and oldest datum of what the cache holds for a region. */
export const summarizeRegion = (region: string) =>
  Effect.gen(function*() {
    const [metadata, onDemand, reserved, savingsPlans, spot, scores] = yield* Effect.all([
      readCached(region, "instance-types"),
      readCached(region, "on-demand"),
      readCached(region, "reserved"),
      readCached(region, "savings-plan"),
      readCached(region, "spot"),
      readCached(region, "scores")
    ])
    const count = <A>(entry: Option.Option<{ readonly data: A }>, size: (data: A) => number) =>
      Option.match(entry, { onNone: () => 0, onSome: (e) => size(e.data) })
    const offers = count(onDemand, (d) => d.length) + count(reserved, (d) => d.length) +
      count(savingsPlans, (d) => d.rates.length) + count(spot, (d) => d.length)
    const fetchedAt = (entry: Option.Option<{ readonly fetchedAt: string }>) =>
      Option.isSome(entry) ? [entry.value.fetchedAt] : []
    const times = [
      ...fetchedAt(metadata), ...fetchedAt(onDemand), ...fetchedAt(reserved),
      ...fetchedAt(savingsPlans), ...fetchedAt(spot), ...fetchedAt(scores)
    ].sort()
    return { region, offers, oldestDatum: times[0] ?? null }
  })

/** Refreshes every region in `options.regions`; never fails: failures are in each region's summary. */
export const refreshMarketData = (
  options: RefreshOptions,
  onEvent: (event: RefreshEvent) => Effect.Effect<void> = () => Effect.void
): Effect.Effect<RefreshSummary, never, AwsClients | CatalogCache> =>
  Effect.gen(function*() {
    const startedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    const regions = yield* Effect.forEach(options.regions, (region) => refreshRegion(region, options, onEvent), {
      concurrency: Math.max(1, options.concurrency)
    })
    const finishedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    return { regions, status: refreshStatus(regions, options.kinds), startedAt, finishedAt }
  })
