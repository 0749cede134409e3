/**
 * Replays a request trace against spot availability traces, one minute at a time, for one placement policy.
 * Pure: the same scenario gives the same outcome.
 *
 * Each minute: spot held in a zone whose trace says 0 is reclaimed (all of it: launching or ready); launches due
 * become ready; the policy sees the last minute's load and this minute's spot availability and sets how many
 * replicas it holds per zone and market (spot launches in a zone without spot fail); then the minute is served.
 * A replica serves `capacity.requestsPerSecond` once ready; launches take the cold start; everything held is
 * billed, launching included. Requests beyond the ready replicas' capacity in a minute are over capacity.
 * The service is already running at minute 0 with what the policy asks for then.
 *
 * Reported per policy: cost, availability (share of minutes with at least `replicas.min` replicas ready), requests
 * over capacity, mean replicas held, replica-hours by market and replicas reclaimed.
 */
import type { ServiceSection } from "@frugal/core"
import { desiredReplicas, type LoadSignals, scalingRuleOf } from "../Autoscaler.ts"
import type { ReplicaCapacity } from "../Capacity.ts"
import {
  onDemandPolicy,
  skyServePolicy,
  SPOTHEDGE_EXTRA_REPLICAS,
  spotHedgePolicy,
  spotOnlyPolicy,
  staticOnDemandPolicy
} from "../policies/Baselines.ts"
import { frugalPolicy } from "../policies/Frugal.ts"
import {
  type BaselineSettings,
  type PolicyContext,
  type PolicyName,
  type ServingPolicy,
  targetIndex
} from "../policies/ServingPolicy.ts"
import { SpotRiskEstimate } from "../SpotRiskModel.ts"
import { Fleet, type Market, ON_DEMAND, SPOT } from "./Fleet.ts"

export interface SimulatedZone {
  /** Zone name as the trace names it (`us-east-1a`). */
  readonly name: string
  readonly region: string
  /** 1 when spot can be had during minute m, 0 when not. */
  readonly spotAvailable: Uint8Array
  readonly spotPriceUsdPerHour: number
  readonly onDemandPriceUsdPerHour: number
  /** The catalog's rate for the instance type here (Spot Instance Advisor bucket): the prior of the online estimate. */
  readonly priorInterruptionsPerHour: number
}

export interface ServiceScenario {
  readonly service: ServiceSection
  readonly capacity: ReplicaCapacity
  /** Requests arriving in each minute. */
  readonly arrivalsPerMinute: Float64Array
  readonly zones: ReadonlyArray<SimulatedZone>
}

/** Per-minute figures, for tests and charts. */
export interface Timeline {
  readonly ready: Int32Array
  readonly held: Int32Array
  readonly onDemandHeld: Int32Array
  readonly zonesUsed: Int32Array
  /** Spot replicas reclaimed in the minute. */
  readonly reclaimed: Int32Array
  readonly zonesWithSpot: Int32Array
}

export interface PolicyOutcome {
  readonly costUsd: number
  /** Share of minutes with at least replicas.min replicas ready. */
  readonly availability: number
  /** Requests that arrived beyond the ready capacity of their minute, percent of all requests. */
  readonly overloadedRequestsPct: number
  /** Mean replicas held (billed), launching included. */
  readonly meanReplicas: number
  readonly spotReplicaHours: number
  readonly onDemandReplicaHours: number
  /** Spot replicas reclaimed (ready or launching). */
  readonly preemptions: number
  readonly timeline: Timeline | null
}

export type PolicyFactory = (context: PolicyContext, initialReplicas: number) => ServingPolicy

export const POLICY_FACTORIES: Readonly<Record<PolicyName, PolicyFactory>> = {
  "frugal": frugalPolicy,
  "on-demand": onDemandPolicy,
  "static-on-demand": (context) => staticOnDemandPolicy(context),
  "skyserve": skyServePolicy,
  "spothedge": spotHedgePolicy,
  "spot-only": spotOnlyPolicy
}

/** The load of a minute served without limit (what the rule sees when capacity is not the bottleneck). */
export const unconstrainedLoad = (requests: number, capacity: ReplicaCapacity): LoadSignals => ({
  requestsInFlight: (requests / 60) * capacity.latencySeconds,
  requestsPerSecond: requests / 60,
  queueDepth: 0,
  gpuUtilization: Number.NaN
})

/** What the service's rule asks for at the busiest minute of the trace. */
export const peakReplicas = (scenario: ServiceScenario): number => {
  const rule = scalingRuleOf(scenario.service)
  let peak = rule.minReplicas
  for (const requests of scenario.arrivalsPerMinute) {
    peak = Math.max(peak, desiredReplicas(rule, 0, unconstrainedLoad(requests, scenario.capacity)))
  }
  return peak
}

export const policyContext = (scenario: ServiceScenario, baselines: Partial<BaselineSettings> = {}): PolicyContext => ({
  service: scenario.service,
  rule: scalingRuleOf(scenario.service),
  capacity: scenario.capacity,
  zones: scenario.zones.length,
  spotPriceUsdPerHour: Float64Array.from(scenario.zones, (z) => z.spotPriceUsdPerHour),
  onDemandPriceUsdPerHour: Float64Array.from(scenario.zones, (z) => z.onDemandPriceUsdPerHour),
  peakReplicas: peakReplicas(scenario),
  baselines: {
    onDemandBase: baselines.onDemandBase ?? scenario.service.onDemandBase,
    spotHedgeExtraReplicas: baselines.spotHedgeExtraReplicas ?? SPOTHEDGE_EXTRA_REPLICAS,
    skyServeQpsScale: baselines.skyServeQpsScale ?? 1
  }
})

class MutableLoad implements LoadSignals {
  requestsInFlight = 0
  requestsPerSecond = 0
  queueDepth = 0
  gpuUtilization = Number.NaN
}

const MARKETS: ReadonlyArray<Market> = [SPOT, ON_DEMAND]

export const simulateService = (
  scenario: ServiceScenario,
  factory: PolicyFactory,
  options: { readonly timeline?: boolean; readonly context?: PolicyContext } = {}
): PolicyOutcome => {
  const { zones, capacity, arrivalsPerMinute: arrivals } = scenario
  const context = options.context ?? policyContext(scenario)
  const zoneCount = zones.length
  const minutes = Math.min(arrivals.length, ...zones.map((z) => z.spotAvailable.length))
  const fleet = new Fleet(zoneCount, Math.ceil(scenario.service.coldStartSeconds / 60))
  const regionNames = [...new Set(zones.map((z) => z.region))]
  const risk = new SpotRiskEstimate(zones.map((z) => regionNames.indexOf(z.region)), zones.map((z) => z.priorInterruptionsPerHour))
  const available = new Uint8Array(zoneCount)
  const targets = new Int32Array(zoneCount * 2)
  const load = new MutableLoad()
  const perMinute = capacity.requestsPerSecond * 60
  const minReplicas = scenario.service.replicas.min
  const timeline: Timeline | null = options.timeline === true
    ? {
      ready: new Int32Array(minutes),
      held: new Int32Array(minutes),
      onDemandHeld: new Int32Array(minutes),
      zonesUsed: new Int32Array(minutes),
      reclaimed: new Int32Array(minutes),
      zonesWithSpot: new Int32Array(minutes)
    }
    : null

  const first = unconstrainedLoad(arrivals[0] ?? 0, capacity)
  Object.assign(load, first)
  const policy = factory(context, desiredReplicas(context.rule, 0, first))
  const step = { minute: 0, fleet, spotAvailable: available, load, risk }

  let costUsd = 0
  let spotHours = 0
  let onDemandHours = 0
  let heldMinutes = 0
  let upMinutes = 0
  let requests = 0
  let overloaded = 0
  let preemptions = 0

  for (let t = 0; t < minutes; t++) {
    let reclaimedNow = 0
    let zonesWithSpot = 0
    for (let z = 0; z < zoneCount; z++) {
      const up = zones[z]?.spotAvailable[t] ?? 0
      available[z] = up
      zonesWithSpot += up
      if (up === 0) reclaimedNow += fleet.reclaim(z)
    }
    preemptions += reclaimedNow
    fleet.promote(t)
    risk.observe(available, 1 / 60)
    step.minute = t
    if (t === 0) {
      // The service is running when the replay starts: what the policy holds at minute 0 is ready.
      policy.decide(step, targets)
      for (let z = 0; z < zoneCount; z++) {
        if (available[z] === 1) fleet.seed(z, SPOT, targets[targetIndex(z, SPOT)] ?? 0)
        fleet.seed(z, ON_DEMAND, targets[targetIndex(z, ON_DEMAND)] ?? 0)
      }
    }
    policy.decide(step, targets)
    for (let z = 0; z < zoneCount; z++) {
      for (const market of MARKETS) {
        const change = (targets[targetIndex(z, market)] ?? 0) - fleet.held(z, market)
        if (change > 0 && (market === ON_DEMAND || available[z] === 1)) fleet.launch(z, market, change, t)
        else if (change < 0) fleet.terminate(z, market, -change, t)
      }
    }

    const ready = fleet.totalReady()
    const capacityNow = ready * perMinute
    const arriving = arrivals[t] ?? 0
    const served = Math.min(arriving, capacityNow)
    const excess = arriving - served
    requests += arriving
    overloaded += excess
    load.requestsInFlight = (served / 60) * capacity.latencySeconds + excess
    load.requestsPerSecond = arriving / 60
    load.queueDepth = excess
    load.gpuUtilization = ready > 0 ? served / capacityNow : Number.NaN
    if (ready >= minReplicas) upMinutes++

    let held = 0
    let onDemandHeld = 0
    let zonesUsed = 0
    for (let z = 0; z < zoneCount; z++) {
      const spotHeld = fleet.held(z, SPOT)
      const demandHeld = fleet.held(z, ON_DEMAND)
      const zone = zones[z]
      costUsd += (spotHeld * (zone?.spotPriceUsdPerHour ?? 0) + demandHeld * (zone?.onDemandPriceUsdPerHour ?? 0)) / 60
      held += spotHeld + demandHeld
      onDemandHeld += demandHeld
      if (spotHeld + demandHeld > 0) zonesUsed++
    }
    heldMinutes += held
    spotHours += (held - onDemandHeld) / 60
    onDemandHours += onDemandHeld / 60
    if (timeline !== null) {
      timeline.ready[t] = ready
      timeline.held[t] = held
      timeline.onDemandHeld[t] = onDemandHeld
      timeline.zonesUsed[t] = zonesUsed
      timeline.reclaimed[t] = reclaimedNow
      timeline.zonesWithSpot[t] = zonesWithSpot
    }
  }
  return {
    costUsd,
    availability: minutes > 0 ? upMinutes / minutes : 1,
    overloadedRequestsPct: requests > 0 ? (100 * overloaded) / requests : 0,
    meanReplicas: minutes > 0 ? heldMinutes / minutes : 0,
    spotReplicaHours: spotHours,
    onDemandReplicaHours: onDemandHours,
    preemptions,
    timeline
  }
}

export interface PolicySummary extends Omit<PolicyOutcome, "timeline"> {
  /** Cost over that of on-demand replicas autoscaled by the same rule. */
  readonly costVsOnDemand: number
}

/** Every named policy on one scenario, each with its cost against `on-demand` (run for the ratio if not named). */
export const simulatePolicies = (
  scenario: ServiceScenario,
  names: ReadonlyArray<PolicyName>,
  baselines: Partial<BaselineSettings> = {}
): Record<string, PolicySummary> => {
  const context = policyContext(scenario, baselines)
  const outcomes = new Map<PolicyName, PolicyOutcome>()
  const run = (name: PolicyName): PolicyOutcome => {
    const known = outcomes.get(name)
    if (known !== undefined) return known
    const outcome = simulateService(scenario, POLICY_FACTORIES[name], { context })
    outcomes.set(name, outcome)
    return outcome
  }
  const reference = run("on-demand").costUsd
  const result: Record<string, PolicySummary> = {}
  for (const name of names) {
    const { timeline: _timeline, ...outcome } = run(name)
    result[name] = { ...outcome, costVsOnDemand: reference > 0 ? outcome.costUsd / reference : Number.NaN }
  }
  return result
}
