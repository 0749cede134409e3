/**
 * `PriceCatalog` from live AWS data. For each region asked about: data in the disk cache within its time
 * to live is used as is; stale or missing kinds are fetched (regions in parallel, retried with backoff)
 * and cached, all within a time budget; when AWS cannot be reached or does not answer in time the stale
 * cache is used, and where there is none the embedded snapshot. Every answer's `CatalogSource` says which
 * of these it used, how old the data is, and why AWS's own answer is missing.
 *
 *   program.pipe(Effect.provide(AwsCatalog.layer({ accountPricing })))
 */
import { Clock, Duration, Effect, Layer, Option } from "effect"
import type { CatalogSource, InstanceType, InvalidInput, Offer } from "@frugal/core"
import { type AccountPricing, accountPricedCatalog } from "../AccountPricing.ts"
import { CatalogCache } from "../CatalogCache.ts"
import { filterCatalog } from "../CatalogFilter.ts"
import { catalog as embeddedCatalog } from "../EmbeddedCatalog.ts"
import { type Catalog, type CatalogQuery, PriceCatalog, PriceCatalogError } from "../PriceCatalog.ts"
import { AwsClients } from "./AwsClients.ts"
import { AwsCallSettingsFromEnv, AwsTimeouts } from "./AwsCall.ts"
import { type DatumOrigin, type Dated, type RegionData, regionOffers } from "./LiveOffers.ts"
import { type MarketDataKind, type RefreshableKind, TTL_HOURS } from "./MarketData.ts"
import {
  DEFAULT_REFRESH_CONCURRENCY,
  DEFAULT_SPOT_HISTORY_HOURS,
  readCached,
  type RefreshEvent,
  refreshMarketData
} from "./MarketRefresh.ts"

export interface AwsCatalogOptions {
  /** Regions to answer for when a query names none; default: the regions already cached, else the snapshot's. */
  readonly defaultRegions?: ReadonlyArray<string> | undefined
  /** Fetch stale or missing data on a query (default true); false answers from cache and snapshot only. */
  readonly refreshStale?: boolean | undefined
  readonly concurrency?: number | undefined
  /**
   * How long a query waits for stale data to be fetched, all regions together (default: one call's deadline,
   * `FRUGAL_AWS_DEADLINE_SECONDS`, 60 s); after that it answers from the cache or the snapshot and says so.
   */
  readonly refreshBudgetMillis?: number | undefined
  readonly accountPricing?: { readonly path: string; readonly pricing: AccountPricing } | undefined
}

const KIND_OF_REFRESH: ReadonlyArray<readonly [MarketDataKind, RefreshableKind | null]> = [
  ["instance-types", null],
  ["on-demand", "on-demand"],
  ["reserved", "reserved"],
  ["savings-plan", "savings-plan"],
  ["spot", "spot"],
  ["scores", "scores"]
]

const ageHours = (nowMillis: number, iso: string): number => (nowMillis - Date.parse(iso)) / 3_600_000

const formatAge = (hours: number): string =>
  hours < 1 ? `${Math.max(0, Math.round(hours * 60))} min ago` : hours < 48 ? `${Math.round(hours)} h ago` : `${Math.round(hours / 24)} days ago`

type CachedKinds = { readonly [K in MarketDataKind]: Option.Option<{ readonly fetchedAt: string }> }

const readCachedKinds = (region: string) =>
  Effect.all({
    "instance-types": readCached(region, "instance-types"),
    "on-demand": readCached(region, "on-demand"),
    reserved: readCached(region, "reserved"),
    "savings-plan": readCached(region, "savings-plan"),
    spot: readCached(region, "spot"),
    scores: readCached(region, "scores")
  })

const isFresh = (nowMillis: number, kind: MarketDataKind, entry: Option.Option<{ readonly fetchedAt: string }>) =>
  Option.isSome(entry) && ageHours(nowMillis, entry.value.fetchedAt) <= TTL_HOURS[kind]

/** The kinds of a region to fetch: stale or missing ones. */
const staleKindsOf = (cached: CachedKinds, nowMillis: number): ReadonlyArray<RefreshableKind> => {
  // Placement scores are opt-in (`prices refresh --kinds scores`): AWS caps how many configurations an
  // account may score a day, so a query refreshes them only once the user has asked for them.
  const stale = KIND_OF_REFRESH
    .filter(([kind]) => !isFresh(nowMillis, kind, cached[kind]) && (kind !== "scores" || Option.isSome(cached.scores)))
    .map(([, refresh]) => refresh)
  if (stale.length === 0) return []
  const kinds = stale.filter((kind): kind is RefreshableKind => kind !== null)
  // Only the instance-type metadata is stale: the spot refresh fetches it first.
  return kinds.length > 0 ? kinds : ["spot"]
}

/** What a refresh during a query brought: kinds fetched now per region, and the first failure of each region. */
interface RefreshOutcome {
  readonly refreshed: Map<string, Set<MarketDataKind>>
  readonly failures: Array<{ readonly region: string; readonly cause: string }>
}

/**
 * Fetches the stale kinds of every region, all within `budgetMillis`. What finished within it is in the cache
 * (each kind is stored as soon as it arrives); when the budget runs out the rest is abandoned and the answer
 * comes from the cache or the snapshot, with a note saying so.
 */
const refreshWithin = (
  stale: ReadonlyArray<readonly [string, ReadonlyArray<RefreshableKind>]>,
  options: AwsCatalogOptions,
  budgetMillis: number,
  notes: Array<string>
): Effect.Effect<RefreshOutcome, never, AwsClients | CatalogCache> =>
  Effect.gen(function*() {
    const outcome: RefreshOutcome = { refreshed: new Map(), failures: [] }
    if (stale.length === 0) return outcome
    const failedKinds = new Map<string, Array<{ readonly kind: string; readonly cause: string }>>()
    const onEvent = (event: RefreshEvent) =>
      Effect.sync(() => {
        if (event._tag === "KindDone") {
          const kinds = outcome.refreshed.get(event.region) ?? new Set<MarketDataKind>()
          kinds.add(event.kind)
          outcome.refreshed.set(event.region, kinds)
        } else if (event._tag === "KindFailed") {
          const failed = failedKinds.get(event.region) ?? []
          failed.push({ kind: event.kind, cause: `${event.error.service} ${event.error.operation}: ${event.error.errorName}` })
          failedKinds.set(event.region, failed)
        }
      })
    const finished = yield* Effect.forEach(stale, ([region, kinds]) =>
      refreshMarketData({
        regions: [region],
        kinds,
        concurrency: options.concurrency ?? DEFAULT_REFRESH_CONCURRENCY,
        spotHistoryHours: DEFAULT_SPOT_HISTORY_HOURS
      }, onEvent), { concurrency: options.concurrency ?? DEFAULT_REFRESH_CONCURRENCY, discard: true }).pipe(
        Effect.timeoutOption(Duration.millis(budgetMillis))
      )
    if (Option.isNone(finished)) {
      notes.push(
        `AWS did not finish answering within ${Math.round(budgetMillis / 100) / 10} s; ` +
          "what had not arrived came from the cache or the embedded snapshot."
      )
    }
    for (const [region, failed] of failedKinds) {
      const first = failed[0]
      if (first === undefined) continue
      if ((outcome.refreshed.get(region)?.size ?? 0) === 0) {
        outcome.failures.push({ region, cause: first.cause })
      } else {
        // Part of the region was refreshed: name what was not, and why, rather than call AWS unreachable.
        for (const { kind, cause } of failed) notes.push(`${region}: ${kind} not refreshed (${cause}); using cached or embedded data for it.`)
      }
    }
    return outcome
  })

/** A region's data from the cache, each datum marked as fetched now or cached, stale data noted. */
const regionData = (region: string, refreshed: ReadonlySet<MarketDataKind>, notes: Array<string>) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const dated = <A>(kind: MarketDataKind, entry: Option.Option<{ readonly fetchedAt: string; readonly data: A }>): Dated<A> | undefined => {
      if (Option.isNone(entry)) return undefined
      const origin: DatumOrigin = refreshed.has(kind) ? "aws" : "cache"
      if (origin === "cache" && !isFresh(now, kind, entry)) {
        notes.push(`${region}: ${kind} data is stale (fetched ${formatAge(ageHours(now, entry.value.fetchedAt))}).`)
      }
      return { data: entry.value.data, fetchedAt: entry.value.fetchedAt, origin }
    }
    const cached = yield* readCachedKinds(region)
    const data: RegionData = {
      region,
      metadata: dated("instance-types", cached["instance-types"]),
      onDemand: dated("on-demand", cached["on-demand"]),
      reserved: dated("reserved", cached.reserved),
      savingsPlans: dated("savings-plan", cached["savings-plan"]),
      spot: dated("spot", cached.spot),
      scores: dated("scores", cached.scores)
    }
    return data
  })

/** The answer's source: `aws` when everything was fetched now, `cache` when any cached datum was used, else `embedded`. */
export const describeSource = (
  used: ReadonlyArray<{ readonly fetchedAt: string; readonly origin: DatumOrigin }>,
  usedEmbedded: boolean,
  embeddedAsOf: string,
  nowMillis: number,
  notes: ReadonlyArray<string>
): CatalogSource => {
  if (used.length === 0) {
    return {
      kind: "embedded",
      asOf: embeddedAsOf,
      description: "embedded snapshot (no live AWS data could be fetched or found in the cache)",
      notes
    }
  }
  const oldest = [...used].sort((a, b) => a.fetchedAt.localeCompare(b.fetchedAt))[0]?.fetchedAt ?? embeddedAsOf
  const allLive = used.every((datum) => datum.origin === "aws")
  const embeddedPart = usedEmbedded ? `, gaps filled from the embedded snapshot of ${embeddedAsOf}` : ""
  return allLive
    ? { kind: "aws", asOf: oldest, description: `AWS Pricing and EC2 APIs, fetched now${embeddedPart}`, notes }
    : {
      kind: "cache",
      asOf: oldest,
      description: `AWS Pricing and EC2 APIs via the local cache, oldest datum fetched ${formatAge(ageHours(nowMillis, oldest))}${embeddedPart}`,
      notes
    }
}

/** `us-east-1: X` and `us-west-2: X` become `us-east-1, us-west-2: X`, so 24 regions do not print 24 lines. */
export const groupRegionNotes = (notes: ReadonlyArray<string>, regionsAsked: number): ReadonlyArray<string> => {
  const name = (regions: Array<string>) =>
    regions.length > 3 && regions.length === regionsAsked ? `all ${regionsAsked} regions` : regions.sort().join(", ")
  const grouped = new Map<string, Array<string>>()
  for (const note of notes) {
    const match = /^([a-z]{2}(?:-[a-z]+)+-[0-9]+): (.*)$/.exec(note)
    const key = match?.[2] ?? note
    const regions = grouped.get(key) ?? []
    if (match?.[1] !== undefined && !regions.includes(match[1])) regions.push(match[1])
    grouped.set(key, regions)
  }
  return [...grouped].map(([text, regions]) => (regions.length === 0 ? text : `${name(regions)}: ${text}`))
}

/** The live catalog's service implementation. */
export const make = (options: AwsCatalogOptions = {}): Effect.Effect<PriceCatalog["Service"], never, AwsClients | CatalogCache> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<AwsClients | CatalogCache>()
    const cache = yield* CatalogCache

    const catalog = (query?: CatalogQuery): Effect.Effect<Catalog, PriceCatalogError> =>
      Effect.gen(function*() {
        const embedded = yield* Effect.try({
          try: embeddedCatalog,
          catch: (error) => new PriceCatalogError({ detail: `embedded catalog: ${String(error)}` })
        })
        const cachedRegions = yield* cache.children(["aws"])
        const regions = query?.regions ?? options.defaultRegions ??
          (cachedRegions.length > 0 ? cachedRegions : [...new Set(embedded.offers.map((offer) => offer.region))].sort())
        const notes: Array<string> = []
        const now = yield* Clock.currentTimeMillis
        const stale = options.refreshStale === false ? [] : (yield* Effect.forEach(regions, (region) =>
          Effect.map(readCachedKinds(region), (cached) => [region, staleKindsOf(cached, now)] as const), {
          concurrency: options.concurrency ?? DEFAULT_REFRESH_CONCURRENCY
        })).filter(([, kinds]) => kinds.length > 0)
        const budgetMillis = options.refreshBudgetMillis ?? (yield* AwsTimeouts).callDeadlineMillis
        const { failures, refreshed } = yield* refreshWithin(stale, options, budgetMillis, notes)
        const data = yield* Effect.forEach(regions, (region) => regionData(region, refreshed.get(region) ?? new Set(), notes), {
          concurrency: options.concurrency ?? DEFAULT_REFRESH_CONCURRENCY
        })
        // One note per cause (missing credentials fail every region alike), naming the regions it hit.
        const byCause = new Map<string, Array<string>>()
        for (const failure of failures) byCause.set(failure.cause, [...(byCause.get(failure.cause) ?? []), failure.region])
        for (const [cause, hit] of byCause) {
          notes.unshift(`AWS unreachable for ${hit.length > 3 && hit.length === regions.length ? `all ${regions.length} regions` : [...hit].sort().join(", ")} (${cause}); using cached or embedded data.`)
        }
        const perRegion = data.map((region) => regionOffers(region, embedded))
        const offers: Array<Offer> = perRegion.flatMap((region) => region.offers)
        const types = new Map<string, InstanceType>()
        for (const region of perRegion) for (const type of region.instanceTypes) types.set(type.name, type)
        const source = describeSource(
          perRegion.flatMap((region) => region.used),
          perRegion.some((region) => region.usedEmbedded),
          embedded.source.asOf,
          now,
          groupRegionNotes([...notes, ...perRegion.flatMap((region) => region.notes)], regions.length)
        )
        const answer: Catalog = { source, instanceTypes: [...types.values()], offers }
        return filterCatalog(answer, query)
      }).pipe(Effect.provideContext(context))

    const service = PriceCatalog.of({ catalog })
    return options.accountPricing === undefined ? service : accountPricedCatalog(service, options.accountPricing)
  })

/**
 * The live catalog with its AWS clients, the configured disk cache, `AWS_MAX_ATTEMPTS` and the timeouts
 * (`FRUGAL_AWS_TIMEOUT_SECONDS`, `FRUGAL_AWS_DEADLINE_SECONDS`; a bad value is `InvalidInput`).
 */
export const layer = (options: AwsCatalogOptions = {}): Layer.Layer<PriceCatalog, InvalidInput> =>
  Layer.effect(PriceCatalog, make(options)).pipe(
    Layer.provide(Layer.mergeAll(AwsClients.layer, CatalogCache.layer)),
    Layer.provide(AwsCallSettingsFromEnv)
  )
