/**
 * The contract between the service simulator and a placement policy, and the helpers policies share. Pure: a
 * policy reads the fleet, the zones' spot availability this minute and the load of the last minute, and writes
 * how many replicas it wants held in each zone and market; the simulator launches and terminates to get there
 * (spot launches in a zone without spot fail).
 */
import type { ServiceSection } from "@frugal/core"
import type { LoadSignals, ScalingRule } from "../Autoscaler.ts"
import type { ReplicaCapacity } from "../Capacity.ts"
import { type FleetView, type Market, ON_DEMAND, SPOT } from "../simulate/Fleet.ts"
import type { SpotRiskEstimate } from "../SpotRiskModel.ts"

export const POLICY_NAMES = ["frugal", "on-demand", "static-on-demand", "skyserve", "spothedge", "spot-only"] as const
export type PolicyName = (typeof POLICY_NAMES)[number]

export const isPolicyName = (name: string): name is PolicyName => POLICY_NAMES.some((known) => known === name)

/**
 * The knobs the baselines' own systems offer, for comparing them at equal objectives: SkyServe's and SpotHedge's
 * `base_ondemand_fallback_replicas` (default: the service's onDemandBase), SpotHedge's over-provision, and a
 * factor on SkyServe's target QPS per replica (below 1: more headroom).
 */
export interface BaselineSettings {
  readonly onDemandBase: number
  readonly spotHedgeExtraReplicas: number
  readonly skyServeQpsScale: number
}

/** What every policy of one simulation is built from. */
export interface PolicyContext {
  readonly service: ServiceSection
  readonly rule: ScalingRule
  readonly capacity: ReplicaCapacity
  readonly zones: number
  readonly spotPriceUsdPerHour: Float64Array
  readonly onDemandPriceUsdPerHour: Float64Array
  /** Replicas the rule asks for at the peak of the whole load trace (static-on-demand provisions that). */
  readonly peakReplicas: number
  readonly baselines: BaselineSettings
}

/** One minute as a policy sees it. */
export interface PolicyStep {
  readonly minute: number
  readonly fleet: FleetView
  readonly spotAvailable: Uint8Array
  /** The load of the previous minute (of minute 0 at the start). */
  readonly load: LoadSignals
  readonly risk: SpotRiskEstimate
}

/** `targets[zone * 2 + market]`: replicas to hold (launching or ready) in each zone and market. */
export type Targets = Int32Array

export interface ServingPolicy {
  readonly name: PolicyName
  decide(step: PolicyStep, targets: Targets): void
}

export const targetIndex = (zone: number, market: Market): number => zone * 2 + market

export const copyHeld = (fleet: FleetView, targets: Targets): void => {
  for (let z = 0; z < fleet.zones; z++) {
    targets[targetIndex(z, SPOT)] = fleet.held(z, SPOT)
    targets[targetIndex(z, ON_DEMAND)] = fleet.held(z, ON_DEMAND)
  }
}

export const sumTargets = (targets: Targets, zones: number, market: Market): number => {
  let sum = 0
  for (let z = 0; z < zones; z++) sum += targets[targetIndex(z, market)] ?? 0
  return sum
}

const zoneTotal = (targets: Targets, zone: number): number =>
  (targets[targetIndex(zone, SPOT)] ?? 0) + (targets[targetIndex(zone, ON_DEMAND)] ?? 0)

export const zonesInUse = (targets: Targets, zones: number): number => {
  let used = 0
  for (let z = 0; z < zones; z++) if (zoneTotal(targets, z) > 0) used++
  return used
}

/**
 * Sets the on-demand targets to `count` in all, moving as few replicas as possible: new ones go to the zone with
 * the fewest replicas of any market (so on-demand spreads the service over zones), cheaper on-demand first; removed
 * ones are launches not yet serving where there are any (cancelling a launch costs no capacity), else come from
 * the zone with the most replicas.
 */
export const placeOnDemand = (targets: Targets, context: PolicyContext, count: number, fleet?: FleetView): void => {
  const zones = context.zones
  let held = sumTargets(targets, zones, ON_DEMAND)
  while (held < count) {
    let best = -1
    for (let z = 0; z < zones; z++) {
      if (best < 0) best = z
      else {
        const load = zoneTotal(targets, z) - zoneTotal(targets, best)
        const price = (context.onDemandPriceUsdPerHour[z] ?? 0) - (context.onDemandPriceUsdPerHour[best] ?? 0)
        if (load < 0 || (load === 0 && price < 0)) best = z
      }
    }
    if (best < 0) return
    targets[targetIndex(best, ON_DEMAND)] = (targets[targetIndex(best, ON_DEMAND)] ?? 0) + 1
    held++
  }
  const launching = (z: number) =>
    fleet === undefined ? false : (targets[targetIndex(z, ON_DEMAND)] ?? 0) > fleet.ready(z, ON_DEMAND)
  while (held > count) {
    let worst = -1
    for (let z = 0; z < zones; z++) {
      if ((targets[targetIndex(z, ON_DEMAND)] ?? 0) === 0) continue
      if (
        worst < 0 || (launching(z) && !launching(worst)) ||
        (launching(z) === launching(worst) && zoneTotal(targets, z) > zoneTotal(targets, worst))
      ) worst = z
    }
    if (worst < 0) return
    targets[targetIndex(worst, ON_DEMAND)] = (targets[targetIndex(worst, ON_DEMAND)] ?? 0) - 1
    held--
  }
}

/** Spot targets of zones whose spot is gone this minute drop to zero (the simulator has reclaimed them). */
export const dropUnavailableSpot = (targets: Targets, spotAvailable: Uint8Array, zones: number): void => {
  for (let z = 0; z < zones; z++) if (spotAvailable[z] !== 1) targets[targetIndex(z, SPOT)] = 0
}

/**
 * The QPS per replica SkyServe (whose autoscaler knows no other signal) is given for this service: the service's
 * own requestsPerSecondPerReplica, else its in-flight target turned into a rate by Little's law (in flight ÷ latency),
 * else the replica's capacity; the smallest where several apply.
 */
export const equivalentQpsPerReplica = (rule: ScalingRule, capacity: ReplicaCapacity): number => {
  const rates: Array<number> = []
  if (rule.requestsPerSecondPerReplica !== null) rates.push(rule.requestsPerSecondPerReplica)
  if (rule.requestsInFlightPerReplica !== null) rates.push(rule.requestsInFlightPerReplica / capacity.latencySeconds)
  if (rates.length === 0) rates.push(capacity.requestsPerSecond)
  return Math.min(...rates)
}
