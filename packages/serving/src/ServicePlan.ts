/**
 * `service plan`: which instance type a replica runs on, in which region and zones, how many replicas the rule
 * keeps at the workload's sustained load, how Frugal's policy splits them between on-demand and spot zones, and
 * what that costs a month at the least, the sustained and the most replicas. Pure over a catalog value.
 *
 * The zones of a region are those the catalog offers the instance type's spot in (AZ IDs); `service.zones.min`
 * above what any allowed region has is bad input (exit 2), named at that field.
 */
import {
  HOURS_PER_MONTH,
  type InputIssue,
  InvalidInput,
  NoFeasiblePlacement,
  type ServiceSection,
  type Workload
} from "@frugal/core"
import type { Catalog } from "@frugal/pricing"
import { Effect } from "effect"
import type { LoadSignals } from "./Autoscaler.ts"
import { DEFAULT_REQUEST_MIX, type ReplicaCapacity, type RequestMix } from "./Capacity.ts"
import { frugalPolicy } from "./policies/Frugal.ts"
import { targetIndex } from "./policies/ServingPolicy.ts"
import {
  hourlyCostUsd,
  type RegionOffers,
  type ReplicaOffer,
  replicaOffers,
  replicasForLoad,
  targetRequestsPerSecond
} from "./ReplicaOffers.ts"
import { Fleet, ON_DEMAND, SPOT } from "./simulate/Fleet.ts"
import { policyContext } from "./simulate/ServiceSimulator.ts"
import { serviceWorkload } from "./ServiceSimulation.ts"
import { SpotRiskEstimate } from "./SpotRiskModel.ts"

export interface PlannedZone {
  /** AZ ID. */
  readonly zone: string
  readonly spotPriceUsdPerHour: number
  readonly interruptionBucket: number | null
  readonly interruptionsPerHour: number
}

export interface Placement {
  readonly replicas: number
  readonly onDemand: number
  readonly spotByZone: Readonly<Record<string, number>>
  readonly monthlyCostUsd: number
}

export interface ServicePlan {
  readonly workload: string
  readonly replica: {
    readonly instanceType: string
    /** The types an Auto Scaling group may mix: same accelerator and count, so the same capacity; cheapest first. */
    readonly instanceTypes: ReadonlyArray<string>
    readonly accelerator: string
    readonly gpusPerReplica: number
    readonly requestsPerSecond: number
    readonly requestsInFlight: number
    readonly latencySeconds: number
    readonly decodeTokensPerSecond: number
  }
  readonly mix: RequestMix & { readonly source: string }
  readonly region: string
  readonly onDemandPriceUsdPerHour: number
  readonly zones: ReadonlyArray<PlannedZone>
  readonly service: ServiceSection
  /** At replicas.min, at the workload's sustained load (inference.tokensPerSecond), at replicas.max. */
  readonly placements: { readonly atMin: Placement; readonly atTarget: Placement; readonly atMax: Placement }
  /** The same replicas at the sustained load, all on-demand. */
  readonly onDemandMonthlyCostUsd: number
  readonly notes: ReadonlyArray<string>
  readonly catalog: { readonly source: string; readonly asOf: string }
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits

/** What Frugal's policy holds for a steady load with every zone's spot available: one decision on an empty fleet. */
export const steadyPlacement = (
  service: ServiceSection,
  capacity: ReplicaCapacity,
  offers: RegionOffers,
  requestsPerSecond: number
): Placement => {
  const zones = offers.spotZones
  const onDemandUsd = offers.onDemandPriceUsdPerHour ?? 0
  const context = policyContext({
    service,
    capacity,
    arrivalsPerMinute: Float64Array.of(requestsPerSecond * 60),
    zones: zones.map((z) => ({
      name: z.zone,
      region: offers.region,
      spotAvailable: Uint8Array.of(1),
      spotPriceUsdPerHour: z.spotPriceUsdPerHour,
      onDemandPriceUsdPerHour: onDemandUsd,
      priorInterruptionsPerHour: z.interruptionsPerHour
    }))
  })
  const load: LoadSignals = {
    requestsInFlight: requestsPerSecond * capacity.latencySeconds,
    requestsPerSecond,
    queueDepth: 0,
    gpuUtilization: Number.NaN
  }
  const policy = frugalPolicy(context, replicasForLoad(service, capacity, requestsPerSecond))
  const fleet = new Fleet(zones.length, Math.ceil(service.coldStartSeconds / 60))
  const risk = new SpotRiskEstimate(zones.map(() => 0), zones.map((z) => z.interruptionsPerHour))
  const available = new Uint8Array(zones.length).fill(1)
  const targets = new Int32Array(Math.max(1, zones.length) * 2)
  if (zones.length === 0) {
    const replicas = replicasForLoad(service, capacity, requestsPerSecond)
    return { replicas, onDemand: replicas, spotByZone: {}, monthlyCostUsd: replicas * onDemandUsd * HOURS_PER_MONTH }
  }
  policy.decide({ minute: 0, fleet, spotAvailable: available, load, risk }, targets)
  let onDemand = 0
  let hourly = 0
  const spotByZone: Record<string, number> = {}
  zones.forEach((z, i) => {
    const spot = targets[targetIndex(i, SPOT)] ?? 0
    const demand = targets[targetIndex(i, ON_DEMAND)] ?? 0
    if (spot > 0) spotByZone[z.zone] = spot
    onDemand += demand
    hourly += spot * z.spotPriceUsdPerHour + demand * onDemandUsd
  })
  const spotTotal = Object.values(spotByZone).reduce((a, b) => a + b, 0)
  return { replicas: onDemand + spotTotal, onDemand, spotByZone, monthlyCostUsd: round(hourly * HOURS_PER_MONTH, 2) }
}

/** The load at which the rule asks for `replicas` replicas (every signal at its target; capacity without one). */
export const requestsPerSecondFor = (service: ServiceSection, capacity: ReplicaCapacity, replicas: number): number => {
  const { requestsInFlightPerReplica: inFlight, requestsPerSecondPerReplica: rate } = service.target
  const rates = [
    ...(inFlight === undefined ? [] : [(replicas * inFlight) / capacity.latencySeconds]),
    ...(rate === undefined ? [] : [replicas * rate])
  ]
  return rates.length === 0 ? replicas * capacity.requestsPerSecond : Math.min(...rates)
}

interface Choice {
  readonly offer: ReplicaOffer
  readonly region: RegionOffers
  readonly hourlyCostUsd: number
}

export const planService = (
  workloadInput: Workload,
  source: string,
  catalog: Catalog,
  options: { readonly mix?: RequestMix | undefined } = {}
): Effect.Effect<ServicePlan, InvalidInput | NoFeasiblePlacement> =>
  Effect.gen(function*() {
    const { workload, service } = yield* serviceWorkload(workloadInput, source)
    const mix = options.mix ?? DEFAULT_REQUEST_MIX
    const regions = workload.constraints.regions ?? null
    const offers = replicaOffers(workload, service, catalog, { mix, regions, everyRegion: false })
    if (offers.length === 0) {
      return yield* new NoFeasiblePlacement({
        workload: workload.name,
        constraint: "service.target",
        detail: `no instance type in the catalog${regions === null ? "" : ` in ${regions.join(", ")}`} serves the model as one replica carrying the target per replica`
      })
    }
    const rps = targetRequestsPerSecond(workload, mix)
    const choices: Array<Choice> = []
    let mostZones = 0
    for (const offer of offers) {
      const replicas = replicasForLoad(service, offer.capacity, rps)
      for (const region of offer.regions.values()) {
        if (regions !== null && !regions.includes(region.region)) continue
        const cost = hourlyCostUsd(service, region, replicas)
        if (cost === null || (service.spot && region.spotZones.length === 0)) continue
        mostZones = Math.max(mostZones, region.spotZones.length)
        if (region.spotZones.length >= service.zones.min) choices.push({ offer, region, hourlyCostUsd: cost })
      }
    }
    choices.sort((a, b) => a.hourlyCostUsd - b.hourlyCostUsd || a.offer.instanceType.localeCompare(b.offer.instanceType))
    const [best] = choices
    if (best === undefined) {
      const issue: InputIssue = {
        path: "service.zones.min",
        expected: `at most ${mostZones}, the most availability zones any ${regions === null ? "" : "allowed "}region offers a serving instance type in`,
        actual: String(service.zones.min)
      }
      return yield* new InvalidInput({ source, issues: [issue] })
    }
    const { offer, region } = best
    const capacity = offer.capacity
    const onDemandUsd = region.onDemandPriceUsdPerHour ?? 0
    const atTarget = steadyPlacement(service, capacity, region, rps)
    const atMin = steadyPlacement(service, capacity, region, 0)
    const atMax = steadyPlacement(service, capacity, region, requestsPerSecondFor(service, capacity, service.replicas.max))
    const sameCapacity = offers
      .filter((o) => o.accelerator === offer.accelerator && o.capacity.gpusPerReplica === capacity.gpusPerReplica)
      .filter((o) => {
        const there = o.regions.get(region.region)
        return there !== undefined && there.onDemandPriceUsdPerHour !== null && (!service.spot || there.spotZones.length > 0)
      })
      .map((o) => o.instanceType)
    const inFlightTarget = service.target.requestsInFlightPerReplica
    const utilization = inFlightTarget === undefined ? null : inFlightTarget / capacity.requestsInFlight
    const notes = [
      ...(utilization !== null && utilization > service.scaleInBelowGpuUtilization * 2
        ? [`The target keeps replicas near ${Math.round(utilization * 100)}% busy and scale-in waits for ${Math.round(service.scaleInBelowGpuUtilization * 100)}%: after a peak, replicas stay until load falls by ${Math.round((1 - service.scaleInBelowGpuUtilization / utilization) * 100)}%.`]
        : []),
      `Capacity per replica is for ${Math.round(mix.contextTokens)} prompt and ${Math.round(mix.generatedTokens)} generated tokens a request (${options.mix === undefined ? "the Azure LLM conversation trace's mean; give --requests for your own" : "from the request trace"}).`
    ]
    return {
      workload: workload.name,
      replica: {
        instanceType: offer.instanceType,
        instanceTypes: [offer.instanceType, ...sameCapacity.filter((t) => t !== offer.instanceType)].slice(0, 10),
        accelerator: offer.accelerator,
        gpusPerReplica: capacity.gpusPerReplica,
        requestsPerSecond: round(capacity.requestsPerSecond, 4),
        requestsInFlight: round(capacity.requestsInFlight, 2),
        latencySeconds: round(capacity.latencySeconds, 3),
        decodeTokensPerSecond: round(capacity.decodeTokensPerSecond, 1)
      },
      mix: { ...mix, source: options.mix === undefined ? "default" : "trace" },
      region: region.region,
      onDemandPriceUsdPerHour: onDemandUsd,
      zones: region.spotZones.map((z) => ({
        zone: z.zone,
        spotPriceUsdPerHour: z.spotPriceUsdPerHour,
        interruptionBucket: z.interruptionBucket,
        interruptionsPerHour: round(z.interruptionsPerHour, 5)
      })),
      service,
      placements: { atMin, atTarget, atMax },
      onDemandMonthlyCostUsd: round(atTarget.replicas * onDemandUsd * HOURS_PER_MONTH, 2),
      notes,
      catalog: { source: catalog.source.kind, asOf: catalog.source.asOf }
    }
  })
