/**
 * `PriceCatalog` from live AWS data. For each region asked about: data in the disk cache within its time
 * to live is used as is; stale or missing kinds are fetched (regions in parallel, retried with backoff)
 * and cached; when AWS cannot be reached the stale cache is used, and where there is none the embedded
 * snapshot. Every answer's `CatalogSource` says which of these it used and how old the data is.
 *
 *   program.pipe(Effect.provide(AwsCatalog.layer({ accountPricing })))
 */
import { Clock, Effect, Layer, Option } from "effect"
import type { CatalogSource, InstanceType, Offer } from "@frugal/core"
import { type AccountPricing, accountPricedCatalog } from "../AccountPricing.ts"
import { CatalogCache } from "../CatalogCache.ts"
import { filterCatalog } from "../CatalogFilter.ts"
import { catalog as embeddedCatalog } from "../EmbeddedCatalog.ts"
import { type Catalog, type CatalogQuery, PriceCatalog, PriceCatalogError } from "../PriceCatalog.ts"
import { AwsClients } from "./AwsClients.ts"
import { AwsRetryPolicyFromEnv } from "./AwsCall.ts"
import { type DatumOrigin, type Dated, type RegionData, regionOffers } from "./LiveOffers.ts"
import { type MarketDataKind, type RefreshableKind, TTL_HOURS } from "./MarketData.ts"
import {
  DEFAULT_REFRESH_CONCURRENCY,
  DEFAULT_SPOT_HISTORY_HOURS,
  readCached,
  refreshMarketData
} from "./MarketRefresh.ts"

export interface AwsCatalogOptions {
  /** Regions to answer for when a query names none; default: the regions already cached, else the snapshot's. */
  readonly defaultRegions?: ReadonlyArray<string> | undefined
  /** Fetch stale or missing data on a query (default true); false answers from cache and snapshot only. */
  readonly refreshStale?: boolean | undefined
  readonly concurrency?: number | undefined
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

/** Reads a region's cached data, refreshing stale kinds first when allowed. */
const loadRegion = (
  region: string,
  options: AwsCatalogOptions,
  notes: Array<string>,
  failures: Array<{ readonly region: string; readonly cause: string }>
): Effect.Effect<RegionData, never, AwsClients | CatalogCache> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const isFresh = (kind: MarketDataKind, entry: Option.Option<{ readonly fetchedAt: string }>) =>
      Option.isSome(entry) && ageHours(now, entry.value.fetchedAt) <= TTL_HOURS[kind]
    const before = {
      "instance-types": yield* readCached(region, "instance-types"),
      "on-demand": yield* readCached(region, "on-demand"),
      reserved: yield* readCached(region, "reserved"),
      "savings-plan": yield* readCached(region, "savings-plan"),
      spot: yield* readCached(region, "spot"),
      scores: yield* readCached(region, "scores")
    }
    // Placement scores are opt-in (`prices refresh --kinds scores`): AWS caps how many configurations an
    // account may score a day, so a query refreshes them only once the user has asked for them.
    const staleKinds = KIND_OF_REFRESH
      .filter(([kind]) => !isFresh(kind, before[kind]) && (kind !== "scores" || Option.isSome(before.scores)))
      .map(([, refresh]) => refresh)
    const refreshed = new Set<MarketDataKind>()
    if (staleKinds.length > 0 && options.refreshStale !== false) {
      const kinds = staleKinds.filter((kind): kind is RefreshableKind => kind !== null)
      const summary = yield* refreshMarketData({
        regions: [region],
        kinds: kinds.length > 0 ? kinds : ["spot"],
        concurrency: options.concurrency ?? DEFAULT_REFRESH_CONCURRENCY,
        spotHistoryHours: DEFAULT_SPOT_HISTORY_HOURS
      })
      for (const result of summary.regions) {
        for (const kind of Object.keys(result.items)) {
          const match = KIND_OF_REFRESH.find(([name]) => name === kind)
          if (match !== undefined) refreshed.add(match[0])
        }
        const first = result.failures[0]
        if (first !== undefined && refreshed.size === 0) {
          failures.push({ region, cause: `${first.service} ${first.operation}: ${first.errorName}` })
        } else {
          // Part of the region was refreshed: name what was not, and why, rather than call AWS unreachable.
          for (const { kind, error } of result.failedKinds) {
            notes.push(`${region}: ${kind} not refreshed (${error.service} ${error.operation}: ${error.errorName}); using cached or embedded data for it.`)
          }
        }
      }
    }
    const dated = <A>(kind: MarketDataKind, entry: Option.Option<{ readonly fetchedAt: string; readonly data: A }>): Dated<A> | undefined => {
      if (Option.isNone(entry)) return undefined
      const origin: DatumOrigin = refreshed.has(kind) ? "aws" : "cache"
      if (origin === "cache" && !isFresh(kind, entry)) {
        notes.push(`${region}: ${kind} data is stale (fetched ${formatAge(ageHours(now, entry.value.fetchedAt))}).`)
      }
      return { data: entry.value.data, fetchedAt: entry.value.fetchedAt, origin }
    }
    const reread = refreshed.size > 0
    return {
      region,
      metadata: dated("instance-types", reread ? yield* readCached(region, "instance-types") : before["instance-types"]),
      onDemand: dated("on-demand", reread ? yield* readCached(region, "on-demand") : before["on-demand"]),
      reserved: dated("reserved", reread ? yield* readCached(region, "reserved") : before.reserved),
      savingsPlans: dated("savings-plan", reread ? yield* readCached(region, "savings-plan") : before["savings-plan"]),
      spot: dated("spot", reread ? yield* readCached(region, "spot") : before.spot),
      scores: dated("scores", reread ? yield* readCached(region, "scores") : before.scores)
    }
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
        const failures: Array<{ readonly region: string; readonly cause: string }> = []
        const data = yield* Effect.forEach(regions, (region) => loadRegion(region, options, notes, failures), {
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
        const now = yield* Clock.currentTimeMillis
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

/** The live catalog with its AWS clients, the configured disk cache and `AWS_MAX_ATTEMPTS`. */
export const layer = (options: AwsCatalogOptions = {}): Layer.Layer<PriceCatalog> =>
  Layer.effect(PriceCatalog, make(options)).pipe(
    Layer.provide(Layer.mergeAll(AwsClients.layer, CatalogCache.layer)),
    Layer.provide(AwsRetryPolicyFromEnv)
  )
