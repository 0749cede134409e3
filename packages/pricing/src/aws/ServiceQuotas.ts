/**
 * The account's EC2 vCPU quotas per region, from Service Quotas (`GetServiceQuota`, service `ec2`), for the
 * families GPU instances count against (Ec2Quotas.ts). Cached like prices (`aws/<region>/quotas.json`, six hours):
 * quotas change when a request is granted, not by the minute. A region whose quotas cannot be had (no credentials,
 * a fault after retries) answers from the cache, however old, else not at all, and says so in the notes: a plan then
 * cannot mark options above quota, and a run learns the quota from RunInstances' own `VcpuLimitExceeded`.
 * `refreshEc2Quotas` fetches them now, whatever the cache holds (`frugal prices refresh --kinds quotas`).
 *
 * One client per region (Service Quotas is regional), created on first use and destroyed with the layer; endpoint
 * and credentials the SDK's way (`AWS_ENDPOINT_URL_SERVICE_QUOTAS` reaches a loopback server in tests).
 */
import { GetServiceQuotaCommand, ServiceQuotasClient } from "@aws-sdk/client-service-quotas"
import { Clock, Effect, Layer, Option, Schema, type Scope } from "effect"
import { type CacheWriteError, CatalogCache } from "../CatalogCache.ts"
import { type Ec2Quota, Ec2Quota as Ec2QuotaSchema, QUOTA_FAMILIES } from "../Ec2Quotas.ts"
import { QuotaSource } from "../QuotaSource.ts"
import { type AwsCallFailed, awsCall, awsClientOptions, currentAwsCallSettings, withAwsCallSettings } from "./AwsCall.ts"

/** How long fetched quotas are trusted. */
export const QUOTA_TTL_MILLIS = 6 * 3_600_000

const QuotaList = Schema.Array(Ec2QuotaSchema)

/** Cache key of a region's quotas: `aws/<region>/quotas.json`. */
const quotaKey = (region: string): ReadonlyArray<string> => ["aws", region, "quotas"]

/**
 * Fetches a region's GPU-family quotas, one client per region, destroyed when the scope closes; under the retry
 * policy and timeouts in effect where it is built (`AwsCallSettingsFromEnv`), whoever calls it later.
 */
const quotaFetcher: Effect.Effect<(region: string) => Effect.Effect<ReadonlyArray<Ec2Quota>, AwsCallFailed>, never, Scope.Scope> = Effect.gen(
  function*() {
    const settings = yield* currentAwsCallSettings
    const timeouts = settings.timeouts
    const clients = new Map<string, ServiceQuotasClient>()
    yield* Effect.addFinalizer(() => Effect.sync(() => clients.forEach((client) => client.destroy())))
    const client = (region: string) => {
      let existing = clients.get(region)
      if (existing === undefined) {
        existing = new ServiceQuotasClient({ region, ...awsClientOptions(timeouts) })
        clients.set(region, existing)
      }
      return existing
    }
    const fetchRegion = Effect.fn("ServiceQuotas.fetchRegion")(function*(region: string) {
      const quotas: Array<Ec2Quota> = []
      for (const family of QUOTA_FAMILIES) {
        for (const market of ["on-demand", "spot"] as const) {
          const quota = market === "spot" ? family.spot : family.onDemand
          const answer = yield* awsCall(
            { service: "ServiceQuotas", operation: "GetServiceQuota", region },
            (abortSignal) => client(region).send(new GetServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: quota.code }), { abortSignal })
          ).pipe(
            // A code this region does not have (NoSuchResourceException) is no limit we know of, not a failure.
            Effect.catchIf((error) => error.errorName === "NoSuchResourceException", () => Effect.succeed(null))
          )
          const value = answer?.Quota?.Value
          if (value !== undefined && Number.isFinite(value)) quotas.push({ region, code: quota.code, name: quota.name, market, vcpus: value })
        }
      }
      return quotas as ReadonlyArray<Ec2Quota>
    })
    return (region: string) => withAwsCallSettings(settings)(fetchRegion(region))
  }
)

/** Writes a region's quotas to the cache, stamped with `now`. */
const storeQuotas = (cache: CatalogCache["Service"], region: string, now: number, quotas: ReadonlyArray<Ec2Quota>): Effect.Effect<void, CacheWriteError> =>
  cache.write(quotaKey(region), QuotaList, { fetchedAt: new Date(now).toISOString(), data: quotas })

/** Live quotas from Service Quotas, with the disk cache. */
export const serviceQuotasLayer: Layer.Layer<QuotaSource, never, CatalogCache> = Layer.effect(
  QuotaSource,
  Effect.gen(function*() {
    const cache = yield* CatalogCache
    const fetchRegion = yield* quotaFetcher
    const regionQuotas = (region: string) =>
      Effect.gen(function*() {
        const cached = yield* cache.read(quotaKey(region), QuotaList)
        const now = yield* Clock.currentTimeMillis
        if (Option.isSome(cached) && now - Date.parse(cached.value.fetchedAt) < QUOTA_TTL_MILLIS) {
          return { quotas: cached.value.data, notes: [] as ReadonlyArray<string> }
        }
        const fetched = yield* Effect.result(fetchRegion(region))
        if (fetched._tag === "Success") {
          yield* Effect.ignore(storeQuotas(cache, region, now, fetched.success))
          return { quotas: fetched.success, notes: [] as ReadonlyArray<string> }
        }
        const why = fetched.failure.message
        return Option.isSome(cached)
          ? { quotas: cached.value.data, notes: [`EC2 quotas in ${region} from the cache of ${cached.value.fetchedAt}: ${why}`] }
          : { quotas: [] as ReadonlyArray<Ec2Quota>, notes: [`EC2 quotas in ${region} unknown: ${why}`] }
      })
    return QuotaSource.of({
      ec2VcpuQuotas: (regions) =>
        Effect.map(Effect.forEach(regions, regionQuotas, { concurrency: 4 }), (answers) => ({
          quotas: answers.flatMap((answer) => answer.quotas),
          notes: answers.flatMap((answer) => answer.notes)
        }))
    })
  })
)

/** One region's quota refresh: how many quotas were fetched and cached, or the call that failed (the cache kept). */
export type QuotaRefresh =
  | { readonly region: string; readonly quotas: ReadonlyArray<Ec2Quota>; readonly error: null }
  | { readonly region: string; readonly quotas: null; readonly error: AwsCallFailed }

/**
 * Fetches the regions' quotas now and caches them, whatever the cache holds: a raised quota shows in the next plan
 * at once. A region that fails keeps its previous cache, and its failure is returned, not raised. `onRegion` hears
 * each region as it is done (a progress bar).
 */
export const refreshEc2Quotas = (
  regions: ReadonlyArray<string>,
  concurrency = 4,
  onRegion: (refresh: QuotaRefresh) => Effect.Effect<void> = () => Effect.void
): Effect.Effect<ReadonlyArray<QuotaRefresh>, never, CatalogCache> =>
  Effect.scoped(Effect.gen(function*() {
    const cache = yield* CatalogCache
    const fetchRegion = yield* quotaFetcher
    return yield* Effect.forEach(regions, (region) =>
      Effect.gen(function*() {
        const fetched = yield* Effect.result(fetchRegion(region))
        if (fetched._tag === "Failure") return { region, quotas: null, error: fetched.failure } satisfies QuotaRefresh
        const now = yield* Clock.currentTimeMillis
        yield* storeQuotas(cache, region, now, fetched.success).pipe(Effect.catch((error) => Effect.logWarning(error.message)))
        return { region, quotas: fetched.success, error: null } satisfies QuotaRefresh
      }).pipe(Effect.tap(onRegion)), { concurrency })
  }))
