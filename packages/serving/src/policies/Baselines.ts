/**
 * The policies Frugal's is measured against, each as its source describes it:
 * - `on-demand`: on-demand replicas autoscaled by the service's own rule, spread over zones (the reference cost).
 * - `static-on-demand`: on-demand replicas fixed at what the rule asks for at the peak of the load.
 * - `spot-only`: the service's rule, every replica spot, spread over at least `zones.min` zones, relaunched in
 *   another zone when reclaimed; nothing when no zone has spot.
 * - `skyserve`: SkyServe's autoscaler (QPS per replica, 300 s up / 1200 s down) with `base_ondemand_fallback_replicas`
 *   (the service's `onDemandBase`) and spot launched where it is cheapest, relaunched there or in the next cheapest
 *   zone after a reclaim (SkyPilot's optimizer and failover); no dynamic fallback.
 * - `spothedge`: SpotHedge (Mao et al., SkyServe, arXiv 2411.01438, §4): the service's own rule (so that only
 *   placement differs from Frugal's), spot spread evenly over the zones not recently reclaimed (all of them again
 *   when none is left), a fixed over-provision (`SPOTHEDGE_EXTRA_REPLICAS` by default), and dynamic on-demand fallback: as
 *   many on-demand replicas as spot replicas are missing or not yet ready, released once spot is ready.
 */
import { Autoscaler, RequestRateAutoscaler } from "../Autoscaler.ts"
import { SPOT } from "../simulate/Fleet.ts"
import {
  copyHeld,
  dropUnavailableSpot,
  equivalentQpsPerReplica,
  placeOnDemand,
  type PolicyContext,
  type PolicyStep,
  type ServingPolicy,
  sumTargets,
  type Targets,
  targetIndex,
  zonesInUse
} from "./ServingPolicy.ts"

/** The over-provision SpotHedge keeps by default, a fixed count whatever the zones' risk (our choice of N_extra). */
export const SPOTHEDGE_EXTRA_REPLICAS = 2

const spotHeldIn = (targets: Targets, zone: number): number => targets[targetIndex(zone, SPOT)] ?? 0

const addSpot = (targets: Targets, zone: number, count: number): void => {
  targets[targetIndex(zone, SPOT)] = spotHeldIn(targets, zone) + count
}

/** The zone holding the most spot (ties: the dearer), to remove from; -1 when none holds any. */
const zoneToShrink = (targets: Targets, context: PolicyContext): number => {
  let worst = -1
  for (let z = 0; z < context.zones; z++) {
    if (spotHeldIn(targets, z) === 0) continue
    if (worst < 0) {
      worst = z
      continue
    }
    const more = spotHeldIn(targets, z) - spotHeldIn(targets, worst)
    if (more > 0 || (more === 0 && (context.spotPriceUsdPerHour[z] ?? 0) > (context.spotPriceUsdPerHour[worst] ?? 0))) worst = z
  }
  return worst
}

const shrinkSpotTo = (targets: Targets, context: PolicyContext, count: number): void => {
  let held = sumTargets(targets, context.zones, SPOT)
  while (held > count) {
    const zone = zoneToShrink(targets, context)
    if (zone < 0) return
    addSpot(targets, zone, -1)
    held--
  }
}

export const onDemandPolicy = (context: PolicyContext, initial: number): ServingPolicy => {
  const autoscaler = new Autoscaler(context.rule, initial)
  return {
    name: "on-demand",
    decide: (step, targets) => {
      copyHeld(step.fleet, targets)
      placeOnDemand(targets, context, autoscaler.step(step.load), step.fleet)
    }
  }
}

export const staticOnDemandPolicy = (context: PolicyContext): ServingPolicy => ({
  name: "static-on-demand",
  decide: (step, targets) => {
    copyHeld(step.fleet, targets)
    placeOnDemand(targets, context, context.peakReplicas, step.fleet)
  }
})

export const spotOnlyPolicy = (context: PolicyContext, initial: number): ServingPolicy => {
  const autoscaler = new Autoscaler(context.rule, initial)
  const zonesMin = context.service.zones.min
  return {
    name: "spot-only",
    decide: (step, targets) => {
      copyHeld(step.fleet, targets)
      dropUnavailableSpot(targets, step.spotAvailable, context.zones)
      placeOnDemand(targets, context, 0)
      const wanted = autoscaler.step(step.load)
      shrinkSpotTo(targets, context, wanted)
      for (let held = sumTargets(targets, context.zones, SPOT); held < wanted; held++) {
        // Until zones.min zones are used, the cheapest unused zone; then the emptiest used one (ties: cheaper).
        const spread = zonesInUse(targets, context.zones) < zonesMin
        let best = -1
        for (let z = 0; z < context.zones; z++) {
          if (step.spotAvailable[z] !== 1) continue
          if (spread && spotHeldIn(targets, z) > 0) continue
          if (best < 0) {
            best = z
            continue
          }
          const fewer = spotHeldIn(targets, z) - spotHeldIn(targets, best)
          if (fewer < 0 || (fewer === 0 && (context.spotPriceUsdPerHour[z] ?? 0) < (context.spotPriceUsdPerHour[best] ?? 0))) best = z
        }
        if (best < 0 && spread) {
          for (let z = 0; z < context.zones; z++) {
            if (step.spotAvailable[z] === 1 && (best < 0 || spotHeldIn(targets, z) < spotHeldIn(targets, best))) best = z
          }
        }
        if (best < 0) break
        addSpot(targets, best, 1)
      }
    }
  }
}

/** The cheapest zone with spot this minute; -1 when none has any. */
const cheapestAvailableZone = (step: PolicyStep, context: PolicyContext): number => {
  let best = -1
  for (let z = 0; z < context.zones; z++) {
    if (step.spotAvailable[z] !== 1) continue
    if (best < 0 || (context.spotPriceUsdPerHour[z] ?? 0) < (context.spotPriceUsdPerHour[best] ?? 0)) best = z
  }
  return best
}

export const skyServePolicy = (context: PolicyContext, initial: number): ServingPolicy => {
  const autoscaler = new RequestRateAutoscaler({
    minReplicas: context.rule.minReplicas,
    maxReplicas: context.rule.maxReplicas,
    targetQpsPerReplica: equivalentQpsPerReplica(context.rule, context.capacity) * context.baselines.skyServeQpsScale,
    initial
  })
  return {
    name: "skyserve",
    decide: (step, targets) => {
      copyHeld(step.fleet, targets)
      dropUnavailableSpot(targets, step.spotAvailable, context.zones)
      const wanted = autoscaler.step(step.load.requestsPerSecond)
      const base = Math.min(context.baselines.onDemandBase, wanted)
      placeOnDemand(targets, context, base, step.fleet)
      shrinkSpotTo(targets, context, wanted - base)
      const zone = cheapestAvailableZone(step, context)
      const missing = wanted - base - sumTargets(targets, context.zones, SPOT)
      if (zone >= 0 && missing > 0) addSpot(targets, zone, missing)
    }
  }
}

export const spotHedgePolicy = (context: PolicyContext, initial: number): ServingPolicy => {
  const autoscaler = new Autoscaler(context.rule, initial)
  const max = context.rule.maxReplicas
  // Zones SpotHedge still launches in; a reclaim moves a zone out until no zone with spot is left in.
  const active = new Uint8Array(context.zones).fill(1)
  const heldBefore = new Int32Array(context.zones)
  return {
    name: "spothedge",
    decide: (step, targets) => {
      for (let z = 0; z < context.zones; z++) {
        if (heldBefore[z] !== 0 && step.spotAvailable[z] !== 1) active[z] = 0
      }
      copyHeld(step.fleet, targets)
      dropUnavailableSpot(targets, step.spotAvailable, context.zones)
      const wanted = autoscaler.step(step.load)
      const base = Math.min(context.baselines.onDemandBase, wanted)
      const spotWanted = Math.min(wanted - base + context.baselines.spotHedgeExtraReplicas, max - base)
      shrinkSpotTo(targets, context, spotWanted)
      for (let held = sumTargets(targets, context.zones, SPOT); held < spotWanted; held++) {
        let zone = evenSpreadZone(targets, step, context, active)
        if (zone < 0) {
          for (let z = 0; z < context.zones; z++) active[z] = step.spotAvailable[z] === 1 ? 1 : 0
          zone = evenSpreadZone(targets, step, context, active)
        }
        if (zone < 0) break
        addSpot(targets, zone, 1)
      }
      let readySpot = 0
      for (let z = 0; z < context.zones; z++) readySpot += step.fleet.ready(z, SPOT)
      const spotHeld = sumTargets(targets, context.zones, SPOT)
      const fallback = Math.max(0, Math.min(wanted - base - readySpot, max - base - spotHeld))
      placeOnDemand(targets, context, base + fallback, step.fleet)
      for (let z = 0; z < context.zones; z++) heldBefore[z] = targets[targetIndex(z, SPOT)] ?? 0
    }
  }
}

/** The active zone with spot holding the fewest spot replicas (ties: cheaper); -1 when none. */
const evenSpreadZone = (targets: Targets, step: PolicyStep, context: PolicyContext, active: Uint8Array): number => {
  let best = -1
  for (let z = 0; z < context.zones; z++) {
    if (active[z] !== 1 || step.spotAvailable[z] !== 1) continue
    if (best < 0) {
      best = z
      continue
    }
    const fewer = spotHeldIn(targets, z) - spotHeldIn(targets, best)
    if (fewer < 0 || (fewer === 0 && (context.spotPriceUsdPerHour[z] ?? 0) < (context.spotPriceUsdPerHour[best] ?? 0))) best = z
  }
  return best
}

