/** `frugal service plan`: the plan as text or JSON. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsd, formatUsdPerHour } from "@frugal/core"
import type { ServicePlan } from "@frugal/serving"
import { servicePlanReport } from "@frugal/sdk/service"
import { catalogLayer } from "../../../Catalogs.ts"
import { serviceFile, serviceFlagNames } from "./ServiceFile.ts"

const placementLine = (label: string, p: ServicePlan["placements"]["atMin"]): string => {
  const spot = Object.entries(p.spotByZone).map(([zone, n]) => `${n} in ${zone}`).join(", ")
  return `  ${label}: ${p.replicas} replicas, ${p.onDemand} on-demand${spot === "" ? "" : `, spot ${spot}`}: ${formatUsd(p.monthlyCostUsd, "glance")}/month`
}

export const planText = (plan: ServicePlan): ReadonlyArray<string> => [
  `${plan.workload}: ${plan.service.replicas.min}–${plan.service.replicas.max} replicas of 1 × ${plan.replica.instanceType} (${plan.replica.gpusPerReplica} × ${plan.replica.accelerator}) in ${plan.region}`,
  `  A replica serves ${plan.replica.requestsPerSecond.toFixed(2)} requests/s, ${plan.replica.requestsInFlight.toFixed(1)} in flight, ${plan.replica.latencySeconds.toFixed(1)} s each (${plan.replica.decodeTokensPerSecond.toFixed(0)} tokens/s decoding).`,
  `  On-demand ${formatUsdPerHour(plan.onDemandPriceUsdPerHour, "glance")}; spot in ${plan.zones.map((z) => `${z.zone} ${formatUsdPerHour(z.spotPriceUsdPerHour, "glance")}`).join(", ")}.`,
  `  Auto Scaling may mix: ${plan.replica.instanceTypes.join(", ")}.`,
  placementLine("at min", plan.placements.atMin),
  placementLine("at the sustained load", plan.placements.atTarget),
  placementLine("at max", plan.placements.atMax),
  `  All on-demand at the sustained load: ${formatUsd(plan.onDemandMonthlyCostUsd, "glance")}/month.`,
  ...plan.notes.map((note) => `Note: ${note}`),
  `Prices: ${plan.catalog.source} catalog as of ${plan.catalog.asOf}.`
]

export const run = Effect.fnUntraced(function*(input: {
  readonly file: string
  readonly json: boolean
  readonly requests: Option.Option<string>
  readonly catalog: string
}) {
  const { text, source } = yield* serviceFile(input.file)
  const plan = yield* servicePlanReport(text, { source, requests: Option.getOrUndefined(input.requests) }).pipe(
    serviceFlagNames,
    Effect.provide(catalogLayer(input.catalog))
  )
  yield* Console.log(input.json ? JSON.stringify(plan, null, 2) : planText(plan).join("\n"))
})
