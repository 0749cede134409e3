/**
 * `service simulate`: a workload's service replayed against a request trace tiled over days with a daily profile
 * and the zones' spot availability traces, for every policy asked for, priced from the catalog. The inputs are
 * decoded already (the CLI reads the files); this module only assembles the scenario and reports.
 */
import { type InferenceWorkload, InvalidInput, NoFeasiblePlacement, type ServiceSection, type Workload } from "@frugal/core"
import type { SpotTrace } from "@frugal/planner"
import type { Catalog } from "@frugal/pricing"
import { Effect } from "effect"
import { DEFAULT_REQUEST_MIX, type RequestMix } from "./Capacity.ts"
import { type DailyProfile, MINUTES_PER_DAY, tileArrivals } from "./LoadProfile.ts"
import type { BaselineSettings, PolicyName } from "./policies/ServingPolicy.ts"
import { replicaOffers } from "./ReplicaOffers.ts"
import type { RequestTrace } from "./RequestTrace.ts"
import { policyContext, type PolicySummary, simulatePolicies } from "./simulate/ServiceSimulator.ts"
import { checkZoneTraces, simulatedZones, traceRegions, zoneOfTraceName } from "./ZoneTraces.ts"

/** The workload as a service: an inference workload with a `service:` section. */
export const serviceWorkload = (
  workload: Workload,
  source: string
): Effect.Effect<{ readonly workload: InferenceWorkload; readonly service: ServiceSection }, InvalidInput> =>
  workload.kind === "inference" && workload.service !== undefined
    ? Effect.succeed({ workload, service: workload.service })
    : Effect.fail(
      new InvalidInput({
        source,
        issues: [workload.kind === "inference"
          ? { path: "service", expected: "a service: section with replicas and target (docs/serving.md)" }
          : { path: "kind", expected: "inference (only inference workloads are services)", actual: workload.kind }]
      })
    )

export interface ServiceSimulationInput {
  readonly workload: Workload
  readonly workloadSource: string
  readonly requests: RequestTrace
  readonly spotTraces: ReadonlyArray<SpotTrace>
  readonly spotTracesSource: string
  readonly catalog: Catalog
  readonly policies: ReadonlyArray<PolicyName>
  readonly rateScale: number
  readonly days: number
  readonly startHours: number
  readonly profile: DailyProfile
  /** Baselines' own knobs (default: as the service is configured; SpotHedge over-provisions 2). */
  readonly baselines?: Partial<BaselineSettings> | undefined
}

export interface SimulationSettings {
  readonly workload: string
  readonly requests: {
    readonly source: string
    readonly format: RequestTrace["format"]
    readonly requests: number
    readonly recordedMinutes: number
    readonly mix: RequestMix & { readonly fromTrace: boolean }
    readonly rateScale: number
    readonly dailyProfile: DailyProfile & { readonly shape: string }
  }
  readonly days: number
  readonly minutes: number
  readonly spotTraces: { readonly source: string; readonly startHours: number; readonly zones: ReadonlyArray<string> }
  readonly replica: {
    readonly instanceType: string
    readonly accelerator: string
    readonly gpusPerReplica: number
    readonly requestsPerSecond: number
    readonly requestsInFlight: number
    readonly latencySeconds: number
    readonly decodeTokensPerSecond: number
  }
  readonly pricesUsdPerHour: Readonly<Record<string, { readonly onDemand: number | null; readonly spotMedian: number | null }>>
  readonly service: ServiceSection
  readonly baselines: BaselineSettings
  readonly catalog: { readonly source: string; readonly asOf: string }
}

export interface ServiceSimulationReport {
  readonly settings: SimulationSettings
  readonly policies: Record<string, PolicySummary>
}

const round = (value: number, digits: number): number => {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

const rounded = (summary: PolicySummary): PolicySummary => ({
  costUsd: round(summary.costUsd, 2),
  costVsOnDemand: round(summary.costVsOnDemand, 4),
  availability: round(summary.availability, 6),
  overloadedRequestsPct: round(summary.overloadedRequestsPct, 4),
  meanReplicas: round(summary.meanReplicas, 3),
  spotReplicaHours: round(summary.spotReplicaHours, 1),
  onDemandReplicaHours: round(summary.onDemandReplicaHours, 1),
  preemptions: summary.preemptions
})

export const simulateServiceWorkload = (
  input: ServiceSimulationInput
): Effect.Effect<ServiceSimulationReport, InvalidInput | NoFeasiblePlacement> =>
  Effect.gen(function*() {
    const { workload, service } = yield* serviceWorkload(input.workload, input.workloadSource)
    const minutes = Math.round(input.days * MINUTES_PER_DAY)
    const zoneOptions = { startHours: input.startHours, minutes, source: input.spotTracesSource }
    yield* checkZoneTraces(input.spotTraces, zoneOptions)
    const allowed = workload.constraints.regions
    const regions = traceRegions(input.spotTraces).filter((region) => allowed === undefined || allowed.includes(region))
    if (regions.length === 0) {
      return yield* new InvalidInput({
        source: input.spotTracesSource,
        issues: [{ path: "", expected: `traces of zones in constraints.regions (${(allowed ?? []).join(", ")})`, actual: traceRegions(input.spotTraces).join(", ") }]
      })
    }
    const mix: RequestMix = input.requests.mix ?? DEFAULT_REQUEST_MIX
    const [chosen] = replicaOffers(workload, service, input.catalog, { mix, regions, everyRegion: true })
    if (chosen === undefined) {
      return yield* new NoFeasiblePlacement({
        workload: workload.name,
        constraint: "model.parameters",
        detail: `no instance type in the catalog serves the model as one replica with ${service.spot ? "on-demand and spot offers" : "on-demand offers"} in every region of the traces (${regions.join(", ")})`
      })
    }
    const zones = simulatedZones(
      input.spotTraces.filter((trace) => regions.includes(zoneOfTraceName(trace.name)?.region ?? "")),
      chosen.regions,
      zoneOptions
    )
    if (zones.length < service.zones.min) {
      return yield* new InvalidInput({
        source: input.workloadSource,
        issues: [{ path: "service.zones.min", expected: `at most ${zones.length}, the zones of ${input.spotTracesSource}`, actual: String(service.zones.min) }]
      })
    }
    const arrivals = tileArrivals(input.requests, { minutes, rateScale: input.rateScale, profile: input.profile })
    const scenario = { service, capacity: chosen.capacity, arrivalsPerMinute: arrivals, zones }
    const context = policyContext(scenario, input.baselines ?? {})
    const policies = simulatePolicies(scenario, input.policies, context.baselines)
    const capacity = chosen.capacity
    const settings: SimulationSettings = {
      workload: workload.name,
      requests: {
        source: input.requests.source,
        format: input.requests.format,
        requests: input.requests.requests,
        recordedMinutes: input.requests.requestsPerMinute.length,
        mix: { contextTokens: round(mix.contextTokens, 1), generatedTokens: round(mix.generatedTokens, 1), fromTrace: input.requests.mix !== null },
        rateScale: input.rateScale,
        dailyProfile: { ...input.profile, shape: "raised cosine: troughShare + (1 - troughShare) * (1 + cos(2π (hour - peakHourUtc) / 24)) / 2" }
      },
      days: input.days,
      minutes,
      spotTraces: { source: input.spotTracesSource, startHours: input.startHours, zones: zones.map((z) => z.name) },
      replica: {
        instanceType: chosen.instanceType,
        accelerator: chosen.accelerator,
        gpusPerReplica: capacity.gpusPerReplica,
        requestsPerSecond: round(capacity.requestsPerSecond, 4),
        requestsInFlight: round(capacity.requestsInFlight, 2),
        latencySeconds: round(capacity.latencySeconds, 3),
        decodeTokensPerSecond: round(capacity.decodeTokensPerSecond, 1)
      },
      pricesUsdPerHour: Object.fromEntries(regions.map((region) => {
        const offers = chosen.regions.get(region)
        return [region, { onDemand: offers?.onDemandPriceUsdPerHour ?? null, spotMedian: offers?.medianSpotPriceUsdPerHour ?? null }]
      })),
      service,
      baselines: context.baselines,
      catalog: { source: input.catalog.source.kind, asOf: input.catalog.source.asOf }
    }
    return {
      settings,
      policies: Object.fromEntries(Object.entries(policies).map(([name, summary]) => [name, rounded(summary)]))
    }
  })
