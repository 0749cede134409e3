/**
 * Where the account's EC2 vCPU quotas come from: Service Quotas (`aws/ServiceQuotas.ts`, loaded only with the AWS
 * SDK), or nowhere (offline; `QuotaSource.none`), in which case plans mark nothing and a launch learns the quota
 * from EC2's own `VcpuLimitExceeded`.
 */
import { Context, Effect, Layer } from "effect"
import type { Ec2Quota } from "./Ec2Quotas.ts"

export interface QuotaAnswer {
  readonly quotas: ReadonlyArray<Ec2Quota>
  /** What could not be had, and what was used instead. */
  readonly notes: ReadonlyArray<string>
}

export class QuotaSource extends Context.Service<QuotaSource, {
  /** The GPU families' vCPU quotas in these regions, on-demand and spot. Never fails: see the notes. */
  readonly ec2VcpuQuotas: (regions: ReadonlyArray<string>) => Effect.Effect<QuotaAnswer>
}>()("@frugal/pricing/QuotaSource") {
  static readonly none: Layer.Layer<QuotaSource> = Layer.succeed(
    QuotaSource,
    QuotaSource.of({ ec2VcpuQuotas: () => Effect.succeed({ quotas: [], notes: [] }) })
  )

  /** No quotas, and a note saying why they were not asked for (`frugal plan` with an offline catalog). */
  static readonly unchecked = (why: string): Layer.Layer<QuotaSource> =>
    Layer.succeed(QuotaSource, QuotaSource.of({ ec2VcpuQuotas: () => Effect.succeed({ quotas: [], notes: [why] }) }))
}
