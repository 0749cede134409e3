/**
 * The account's EC2 quotas from Service Quotas, loaded lazily: the AWS SDK is imported only when a job may launch on
 * EC2 and the quotas are asked for.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CatalogCache, QuotaSource } from "@frugal/pricing"

export const lazyServiceQuotas: Layer.Layer<QuotaSource> = Layer.succeed(
  QuotaSource,
  QuotaSource.of({
    ec2VcpuQuotas: (regions) =>
      Effect.flatMap(Effect.promise(() => import("@frugal/pricing/aws")), (aws) =>
        Effect.flatMap(QuotaSource, (quotas) => quotas.ec2VcpuQuotas(regions)).pipe(
          Effect.provide(aws.serviceQuotasLayer.pipe(Layer.provide(CatalogCache.layer)))
        ))
  })
)
