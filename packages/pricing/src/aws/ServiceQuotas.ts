/**
 * The account's EC2 vCPU quotas per region, from Service Quotas (`GetServiceQuota`, service `ec2`), for the
 * families GPU instances count against (Ec2Quotas.ts). Cached like prices (`aws/<region>/quotas.json`, six hours):
 * quotas change when a request is granted, not by the minute. A region whose quotas cannot be had (no credentials,
 * a fault after retries) answers from the cache, however old, else not at all, and says so in the notes: a plan then
 * cannot mark options above quota, and a run learns the quota from RunInstances' own `VcpuLimitExceeded`.
 *
 * One client per region (Service Quotas is regional), created on first use and destroyed with the layer; endpoint
 * and credentials the SDK's way (`AWS_ENDPOINT_URL_SERVICE_QUOTAS` reaches a loopback server in tests).
 */
import { GetServiceQuotaCommand, ServiceQuotasClient } from "@aws-sdk/client-service-quotas"
import { Clock, Effect, Layer, Option, Schema } from "effect"
import { CatalogCache } from "../CatalogCache.ts"
import { type Ec2Quota, Ec2Quota as Ec2QuotaSchema, QUOTA_FAMILIES } from "../Ec2Quotas.ts"
import { QuotaSource } from "../QuotaSource.ts"
import { awsCall, awsClientOptions, AwsTimeouts } from "./AwsCall.ts"

/** Live quotas from Service Quotas, with the disk cache. */
export const serviceQuotasLayer: Layer.Layer<QuotaSource, never, CatalogCache> = Layer.effect(
    QuotaSource,
    Effect.gen(function*() {
      const cache = yield* CatalogCache
      const timeouts = yield* AwsTimeouts
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
        return quotas
      })
      const regionQuotas = (region: string) =>
        Effect.gen(function*() {
          const key = ["aws", region, "quotas"]
          const cached = yield* cache.read(key, Schema.Array(Ec2QuotaSchema))
          const now = yield* Clock.currentTimeMillis
          if (Option.isSome(cached) && now - Date.parse(cached.value.fetchedAt) < QUOTA_TTL_MILLIS) {
            return { quotas: cached.value.data, notes: [] as ReadonlyArray<string> }
          }
          const fetched = yield* Effect.result(fetchRegion(region))
          if (fetched._tag === "Success") {
            yield* Effect.ignore(cache.write(key, Schema.Array(Ec2QuotaSchema), { fetchedAt: new Date(now).toISOString(), data: fetched.success }))
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

/** How long fetched quotas are trusted. */
export const QUOTA_TTL_MILLIS = 6 * 3_600_000
