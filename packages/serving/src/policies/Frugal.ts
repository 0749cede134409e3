/**
 * Frugal's serving policy. Each minute:
 * 1. The service's own rule (Autoscaler: every signal at once, stabilisation windows, GPU-utilisation guard on
 *    scale-in, within [min, max]) gives N replicas. The first `onDemandBase` are on-demand, always; with
 *    `spot: false` all of them are.
 * 2. Cover: the chance that zone and regional reclaims within one cold start leave fewer than `replicas.min`
 *    replicas must stay within FLOOR_SHORTFALL_TOLERANCE (the availability objective), and the chance that they
 *    leave less capacity than the load needs (the highest load of the last `scaleInWindowMinutes`, the window the
 *    rule itself waits before believing load has dropped) within LOAD_SHORTFALL_TOLERANCE (the over-capacity
 *    budget); rates as SpotRiskModel estimates them so far.
 * 3. The other replicas are placed one at a time, keeping the spot already running: spot in the cheapest zone that
 *    keeps the cover (a zone's cost is its spot price × (1 + λ·w): each reclaim bills a replacement that serves
 *    only a cold start w later); on-demand when no spot does (this is the fallback when spot is reclaimed or cannot
 *    be had); the option that lowers the risk most per dollar when nothing covers. While fewer than `zones.min`
 *    zones are used, unused zones come first.
 * 4. Then, while the cover is not met, one more replica where it lowers the risk most per dollar: so the spot
 *    over-provision follows the zones' rates, the cold start, the spread and the headroom N already has, and is zero
 *    where the risk is negligible. Scaling in removes spot from the costliest zones, keeping the cover.
 * 5. On-demand replicas held beyond the plan (fallback no longer needed) are released only once the spot replicas
 *    that replace them are ready; when that would pass `replicas.max`, fewer new spot replicas are launched.
 * 6. Never more than `replicas.max` replicas held, launching ones included.
 */
import { Autoscaler, SlidingExtremum } from "../Autoscaler.ts"
import { type FleetView, ON_DEMAND, SPOT } from "../simulate/Fleet.ts"
import {
  FLOOR_SHORTFALL_TOLERANCE,
  LOAD_SHORTFALL_TOLERANCE,
  type LossModel,
  lossModel,
  LossScratch,
  probabilityLossExceeds
} from "../SpotRiskModel.ts"

/** Risk at or below this is covered: each chance within its tolerance. */
const COVERED = 1
import {
  copyHeld,
  dropUnavailableSpot,
  placeOnDemand,
  type PolicyContext,
  type PolicyStep,
  type ServingPolicy,
  sumTargets,
  type Targets,
  targetIndex
} from "./ServingPolicy.ts"

/** One more replica: spot in a zone, or on-demand (zone -1). */
const ON_DEMAND_CHOICE = -1

export const frugalPolicy = (context: PolicyContext, initial: number): ServingPolicy => {
  const autoscaler = new Autoscaler(context.rule, initial)
  const zones = context.zones
  const { service } = context
  const max = context.rule.maxReplicas
  const windowHours = (Math.ceil(service.coldStartSeconds / 60) + 1) / 60
  const onDemandPrice = Math.min(...context.onDemandPriceUsdPerHour)
  const recentLoad = new SlidingExtremum(service.scaleInWindowMinutes, "max")
  const cost = new Float64Array(zones)
  const spot = new Int32Array(zones)
  const kept = new Int32Array(zones)
  const alternative = new Int32Array(zones)
  const scratch = new LossScratch()
  let model: LossModel | null = null
  let floorNeeded = 0
  let loadNeeded = 0
  let onDemand = 0

  const spotTotal = (): number => {
    let placed = 0
    for (let z = 0; z < zones; z++) placed += spot[z] ?? 0
    return placed
  }
  /** The risk of the current plan (`spot` per zone plus `onDemand`): the larger chance over its tolerance. */
  const risk = (): number => {
    if (model === null) return 0
    const total = onDemand + spotTotal()
    return Math.max(
      probabilityLossExceeds(spot, model, total - floorNeeded, scratch) / FLOOR_SHORTFALL_TOLERANCE,
      probabilityLossExceeds(spot, model, total - loadNeeded, scratch) / LOAD_SHORTFALL_TOLERANCE
    )
  }
  const zonesUsed = (): number => {
    let used = 0
    for (let z = 0; z < zones; z++) if ((spot[z] ?? 0) > 0) used++
    return used + Math.min(onDemand, zones - used)
  }
  const spreadShort = (): boolean => zonesUsed() < Math.min(service.zones.min, zones, onDemand + spotTotal())
  const canHoldSpot = (z: number): boolean => (model?.zoneProbability[z] ?? 1) < 1

  /** The risk after one more replica of `choice`, with `pending` more replicas to come as on-demand. */
  const riskWith = (choice: number, pending: number): number => {
    onDemand += pending
    if (choice === ON_DEMAND_CHOICE) onDemand++
    else spot[choice] = (spot[choice] ?? 0) + 1
    const after = risk()
    if (choice === ON_DEMAND_CHOICE) onDemand--
    else spot[choice] = (spot[choice] ?? 0) - 1
    onDemand -= pending
    return after
  }
  const priceOf = (choice: number): number => (choice === ON_DEMAND_CHOICE ? onDemandPrice : (cost[choice] ?? onDemandPrice))

  /**
   * The next replica, judged as if the `pending` replicas still to place were on-demand (the worst they can be):
   * when `widen`, a spot zone not used yet (on-demand fills an empty zone otherwise); else the cheapest choice that
   * keeps the cover; else the one that removes the most risk per dollar.
   */
  const nextReplica = (widen: boolean, pending: number): number => {
    onDemand += pending
    const before = risk()
    onDemand -= pending
    let cheapestCovering = Number.NaN
    let bestValue = Number.NEGATIVE_INFINITY
    let bestValueChoice = ON_DEMAND_CHOICE
    for (let choice = ON_DEMAND_CHOICE; choice < zones; choice++) {
      if (choice !== ON_DEMAND_CHOICE && (!canHoldSpot(choice) || (widen && (spot[choice] ?? 0) > 0))) continue
      const after = riskWith(choice, pending)
      const price = priceOf(choice)
      if (after <= COVERED && (Number.isNaN(cheapestCovering) || price < priceOf(cheapestCovering))) {
        cheapestCovering = choice
      }
      const value = (before - after) / price
      if (value > bestValue) {
        bestValue = value
        bestValueChoice = choice
      }
    }
    return Number.isNaN(cheapestCovering) ? bestValueChoice : cheapestCovering
  }
  const add = (choice: number): void => {
    if (choice === ON_DEMAND_CHOICE) onDemand++
    else spot[choice] = (spot[choice] ?? 0) + 1
  }

  /**
   * The spot zone to scale in: a launch not yet serving where there is one (cancelling it costs no capacity), then
   * the costliest zone whose removal keeps the cover, else the least harmful.
   */
  const zoneToRemove = (fleet: FleetView): number => {
    let best = -1
    let bestRisk = Number.POSITIVE_INFINITY
    let bestLaunching = false
    for (let z = 0; z < zones; z++) {
      if ((spot[z] ?? 0) === 0) continue
      const launching = (spot[z] ?? 0) > fleet.ready(z, SPOT)
      spot[z] = (spot[z] ?? 0) - 1
      const after = Math.max(COVERED, risk())
      spot[z] = (spot[z] ?? 0) + 1
      const better = best < 0 ||
        (launching !== bestLaunching
          ? launching
          : after < bestRisk || (after === bestRisk && (cost[z] ?? 0) > (cost[best] ?? 0)))
      if (better) {
        best = z
        bestRisk = after
        bestLaunching = launching
      }
    }
    return best
  }

  const planCost = (): number => {
    let hourly = onDemand * onDemandPrice
    for (let z = 0; z < zones; z++) hourly += (spot[z] ?? 0) * (cost[z] ?? 0)
    return hourly
  }
  /** The cheapest spot zone (unused ones first when the spread is short); -1 when no zone has spot. */
  const cheapestSpot = (widen: boolean): number => {
    let best = -1
    for (let z = 0; z < zones; z++) {
      if (!canHoldSpot(z)) continue
      const widens = widen && (spot[z] ?? 0) === 0
      const bestWidens = best >= 0 && widen && (spot[best] ?? 0) === 0
      if (best < 0 || (widens && !bestWidens) || (widens === bestWidens && (cost[z] ?? 0) < (cost[best] ?? 0))) best = z
    }
    return best
  }
  /** Steps 3 and 4 from the current plan: up to `wanted` replicas, then extras while not covered. */
  const fill = (wanted: number, spotFirst: boolean): void => {
    while (spotTotal() + onDemand < wanted) {
      const zone = spotFirst ? cheapestSpot(spreadShort()) : -2
      add(zone >= 0 ? zone : nextReplica(spreadShort(), wanted - spotTotal() - onDemand - 1))
    }
    while (spotTotal() + onDemand < max && (spreadShort() || risk() > COVERED)) {
      const choice = nextReplica(spreadShort(), 0)
      if (riskWith(choice, 0) >= risk() && !spreadShort()) break
      add(choice)
    }
  }

  const decideSpot = (step: PolicyStep, targets: Targets, wanted: number): void => {
    const base = Math.min(service.onDemandBase, wanted)
    const loadReplicas = Math.ceil(recentLoad.push(step.load.requestsPerSecond) / context.capacity.requestsPerSecond - 1e-9)
    floorNeeded = Math.min(wanted, context.rule.minReplicas)
    loadNeeded = Math.min(wanted, loadReplicas)
    model = lossModel(step.risk, windowHours, step.spotAvailable)
    for (let z = 0; z < zones; z++) {
      cost[z] = (context.spotPriceUsdPerHour[z] ?? 0) * (1 + step.risk.interruptionsPerHour(z) * windowHours)
      spot[z] = targets[targetIndex(z, SPOT)] ?? 0
    }
    onDemand = base
    // Scale in: spot above the count goes from the costliest zones.
    while (spotTotal() + onDemand > wanted) {
      const z = zoneToRemove(step.fleet)
      if (z < 0) break
      spot[z] = (spot[z] ?? 0) - 1
    }
    // 3. The count, then 4. the cover, within max; greedily, and once more with the count all in spot (then covered
    // by extra replicas) since one replica at a time cannot see that two spot replicas may cost less than one
    // on-demand. A covered plan beats one that is not; then the cheaper wins.
    kept.set(spot)
    const keptOnDemand = onDemand
    fill(wanted, false)
    const greedy = { cost: planCost(), covered: risk() <= COVERED }
    alternative.set(spot)
    const alternativeOnDemand = onDemand
    spot.set(kept)
    onDemand = keptOnDemand
    fill(wanted, true)
    const spotFirst = { cost: planCost(), covered: risk() <= COVERED }
    if (greedy.covered !== spotFirst.covered ? greedy.covered : greedy.cost <= spotFirst.cost) {
      spot.set(alternative)
      onDemand = alternativeOnDemand
    }
    // 5. Make before break, within max: on-demand beyond the plan stays while the spot replacing it is not ready,
    // and a launch in progress is never cancelled for a later one (it serves sooner); spot not serving yet gives way.
    let readySpot = 0
    let readyOnDemand = 0
    for (let z = 0; z < zones; z++) {
      readySpot += Math.min(step.fleet.ready(z, SPOT), spot[z] ?? 0)
      readyOnDemand += step.fleet.ready(z, ON_DEMAND)
    }
    const heldOnDemand = sumTargets(targets, zones, ON_DEMAND)
    const surplus = Math.max(0, heldOnDemand - onDemand)
    // Spot cut below the count leaves on-demand standing in for it.
    const bridgeFor = () =>
      Math.min(surplus, Math.max(spotTotal() - readySpot, heldOnDemand - readyOnDemand, wanted - onDemand - spotTotal()))
    let bridge = bridgeFor()
    for (let z = zones - 1; z >= 0 && spotTotal() + onDemand + bridge > max; z--) {
      const notServing = (spot[z] ?? 0) - Math.min(step.fleet.ready(z, SPOT), spot[z] ?? 0)
      const cut = Math.min(notServing, spotTotal() + onDemand + bridge - max)
      if (cut > 0) {
        spot[z] = (spot[z] ?? 0) - cut
        bridge = bridgeFor()
      }
    }
    bridge = Math.max(0, Math.min(bridge, max - spotTotal() - onDemand))
    for (let z = 0; z < zones; z++) targets[targetIndex(z, SPOT)] = spot[z] ?? 0
    placeOnDemand(targets, context, onDemand + bridge, step.fleet)
  }

  return {
    name: "frugal",
    decide: (step, targets) => {
      copyHeld(step.fleet, targets)
      dropUnavailableSpot(targets, step.spotAvailable, zones)
      const wanted = autoscaler.step(step.load)
      if (service.spot) {
        decideSpot(step, targets, wanted)
        return
      }
      for (let z = 0; z < zones; z++) targets[targetIndex(z, SPOT)] = 0
      placeOnDemand(targets, context, wanted, step.fleet)
    }
  }
}
