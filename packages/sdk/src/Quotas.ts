/**
 * Where a plan's or a run's EC2 vCPU quotas come from. `lazyServiceQuotas` asks Service Quotas (cached six hours in
 * the price cache, `aws/<region>/quotas.json`), loading the AWS SDK only when quotas are asked for; its calls take
 * `AWS_MAX_ATTEMPTS` and the `FRUGAL_AWS_*` timeouts like every other AWS call, and a bad value of those leaves the
 * quotas unknown, with the error in the notes. `quotaSourceFor` picks the source for a catalog name: Service Quotas
 * with the live catalog (`aws`), none with an offline one (embedded or a file), which stays offline and says so in
 * the plan's notes.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CatalogCache, QuotaSource } from "@frugal/pricing"
import { parseCatalogChoice } from "./Catalogs.ts"

/** The account's EC2 quotas from Service Quotas, with the disk cache; the AWS SDK is imported on the first ask. */
export const lazyServiceQuotas: Layer.Layer<QuotaSource> = Layer.succeed(QuotaSource)(QuotaSource.of({
  ec2VcpuQuotas: (regions) =>
    Effect.flatMap(Effect.promise(() => import("@frugal/pricing/aws")), (aws) =>
      Effect.flatMap(QuotaSource, (quotas) => quotas.ec2VcpuQuotas(regions)).pipe(
        Effect.provide(aws.serviceQuotasLayer.pipe(Layer.provide(CatalogCache.layer), Layer.provide(aws.AwsCallSettingsFromEnv))),
        Effect.catchTag("InvalidInput", (error) => Effect.succeed({ quotas: [], notes: [`EC2 quotas unknown: ${error.message}`] }))
      ))
}))

/**
 * What a plan says when it did not ask for quotas: over the embedded snapshot or a catalog file (offline), or when
 * no quota source was given (a catalog layer without `Frugal.make`'s `quotas`, `planCalibrated` without `quotas`).
 */
export const quotasNotCheckedNote = (why: "embedded" | "file" | "none"): string =>
  `EC2 vCPU quotas were not checked: ${
    why === "none" ? "no quota source was given (the quotas option of Frugal.make or planCalibrated)" : `the ${why} catalog works offline`
  } (with --catalog aws the plan asks Service Quotas for the profile's regions, cached 6 h; frugal prices refresh --kinds quotas refreshes them).`

/**
 * The quota source for a catalog name (`--catalog`, `Frugal.make({ catalog })`): Service Quotas for `aws`, none for
 * the embedded snapshot or a catalog file (the plan's notes say the quotas were not checked).
 */
export const quotaSourceFor = (catalog: string): Layer.Layer<QuotaSource> => {
  const choice = parseCatalogChoice(catalog)
  return choice._tag === "aws" ? lazyServiceQuotas : QuotaSource.unchecked(quotasNotCheckedNote(choice._tag))
}
