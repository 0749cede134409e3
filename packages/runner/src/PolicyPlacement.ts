/**
 * Adapts a spot policy of `@frugal/planner` (on-demand, greedy, uniform progress, frugal) to the supervisor's
 * `NextPlacement`: after each early end it rebuilds the job state the policy reads (compute hours left from
 * the newest checkpoint, hours to the deadline, what is available where) and maps the holding it returns
 * to one of the job's placements. What the supervisor has seen is the spot history: a zone whose attempt was
 * interrupted (or lost) has no capacity until a later attempt there starts; zones not tried yet are assumed
 * to have capacity.
 */
import { Effect } from "effect"
import { EventSpotHistory, type JobState, NONE, type Policy } from "@frugal/planner"
import type { NextPlacement, PlacementContext } from "./NextPlacement.ts"
import type { Placement } from "./Placement.ts"

export interface PolicyPlacementOptions {
  /** The spot placements the job may use, one per zone: zone `i` of the policy is `spotZones[i]`. */
  readonly spotZones: ReadonlyArray<Placement>
  readonly onDemand: Placement
  /** C: compute hours the whole job needs (the plan's expected hours without interruptions). */
  readonly computeHours: number
  /** R: hours from the job's first attempt to its deadline. */
  readonly deadlineHours: number
  /** d: hours each relaunch costs before progress resumes (start, restore, warm-up). */
  readonly changeoverHours: number
  /** Steps of the whole run, to turn the newest checkpoint step into progress. */
  readonly totalSteps: number
  /** How long a "wait" (hold nothing) lasts before the policy is asked again; default 15 minutes. */
  readonly waitHours?: number
  readonly seed?: number
  /** Told before each wait (the policy holds nothing for `waitHours`), so a caller can say why nothing runs. */
  readonly onWait?: (waitHours: number) => Effect.Effect<void>
}

const HOUR_MILLIS = 3_600_000

const samePlace = (a: Placement, b: Placement): boolean =>
  a.instanceType === b.instanceType && a.region === b.region && a.availabilityZone === b.availabilityZone &&
  a.purchaseOption === b.purchaseOption

/** The job state and history after the attempts so far (pure). */
export const policyInputs = (
  options: PolicyPlacementOptions,
  context: PlacementContext,
  waitedHours: number
): { readonly state: JobState; readonly history: EventSpotHistory } => {
  const first = context.attempts[0]?.startedAtMillis ?? context.nowMillis
  const hoursAt = (millis: number) => (millis - first) / HOUR_MILLIS
  const elapsedHours = hoursAt(context.nowMillis) + waitedHours
  const zones = options.spotZones.length
  const history = new EventSpotHistory()
  const available = Array.from({ length: zones }, () => 1)
  for (let zone = 0; zone < zones; zone++) history.observe(zone, true, 0)
  for (const attempt of context.attempts) {
    const zone = options.spotZones.findIndex((placement) => samePlace(placement, attempt.placement))
    if (zone < 0) continue
    history.observe(zone, true, Math.max(0, hoursAt(attempt.startedAtMillis)))
    available[zone] = 1
    if (attempt.exitReason === "interrupted" || attempt.exitReason === "lost") {
      history.observe(zone, false, Math.max(0, hoursAt(attempt.endedAtMillis ?? attempt.lastSeenAtMillis)))
      available[zone] = 0
    }
  }
  // After a wait, capacity may have come back; without a fresh observation, assume it has.
  if (waitedHours > 0) available.fill(1)
  history.advanceTo(elapsedHours)
  const progress = Math.min(1, (context.lastCheckpointStep ?? 0) / Math.max(1, options.totalSteps))
  const state: JobState = {
    computeHours: options.computeHours,
    deadlineHours: options.deadlineHours,
    changeoverHours: options.changeoverHours,
    elapsedHours,
    computeHoursLeft: options.computeHours * (1 - progress),
    hoursToDeadline: options.deadlineHours - elapsedHours,
    overheadHoursLeft: 0,
    stepHours: options.waitHours ?? 0.25,
    spotHoldsForStep: false,
    // The attempt has ended: nothing is held while the policy decides.
    holding: NONE,
    spotAvailable: available,
    spotPriceUsdPerHour: options.spotZones.map((placement) => placement.hourlyPriceUsd),
    onDemandPriceUsdPerHour: options.onDemand.hourlyPriceUsd,
    seed: options.seed ?? 0
  }
  return { state, history }
}

/** The supervisor's `NextPlacement` for a planner policy. Waits (sleeps) while the policy says to hold nothing. */
export const policyPlacement = (policy: Policy, options: PolicyPlacementOptions): NextPlacement => (context) =>
  Effect.gen(function*() {
    const waitHours = options.waitHours ?? 0.25
    for (let waits = 0; waits < 10_000; waits++) {
      const { history, state } = policyInputs(options, context, waits * waitHours)
      if (state.computeHoursLeft <= 0) return context.current
      const holding = policy.decide(state, history)
      if (holding.kind === "on-demand") return options.onDemand
      if (holding.kind === "spot") return options.spotZones[holding.zone] ?? options.onDemand
      if (options.onWait !== undefined) yield* options.onWait(waitHours)
      yield* Effect.sleep(waitHours * HOUR_MILLIS)
    }
    return null
  })
