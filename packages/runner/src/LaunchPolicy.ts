/**
 * Where a job's next attempt runs: the plan's ranked placements are the failover order, and the spot policy of
 * `@frugal/planner` picks every relaunch after a reclaim. Pure: the decision depends only on the job's policy (kept
 * in the ledger with the job), its attempts so far and the time, so a supervisor restarted on the same job decides
 * as the first one would have.
 *
 * - The first attempt runs on the first placement: the plan's recommendation.
 * - An attempt the engine could not start (`provision-failed`: no capacity, a quota) sets its pool aside (or, for a
 *   regional quota, the market in the region) for `coolDownMinutes`; the next placement in rank order that still
 *   meets the deadline with the work left is tried.
 * - A reclaimed (interrupted or lost) spot attempt sets its zone aside for the same cool-down; the policy then
 *   chooses spot in one of the placements' zones (its history of reclaims is what the attempts show), on-demand, or
 *   to wait, given the compute hours left and the hours to the deadline.
 * - A crash (an error of the command itself) relaunches where it was.
 * - When nothing can meet the deadline, the job stops and says so; when everything left is cooling down and would
 *   still meet the deadline after it, the job waits for the first cool-down to end.
 */
import { Schema } from "effect"
import { EventSpotHistory, type JobState, NONE, ONLINE_POLICY_NAMES, onlinePolicyByName, type Policy } from "@frugal/planner"
import type { AttemptExit } from "./AttemptExit.ts"
import type { AttemptRecord } from "./LedgerRecords.ts"
import { describePlacement, Placement, poolKey } from "./Placement.ts"
import type { AttemptHorizon } from "./Runner.ts"

export const RankedPlacement = Schema.Struct({
  placement: Placement,
  /** Hours of the whole job here without interruptions (the plan's `baseHours`). */
  baseHours: Schema.Number,
  /** Expected wall-clock hours of the whole job here, interruptions, checkpoints and restarts included. */
  expectedHours: Schema.Number,
  /** Expected cost of the whole job here, USD (the plan's, for the output). */
  expectedCostUsd: Schema.Number,
  /** Hours each launch here takes before training (boot, image, data, restore), part of `expectedHours`. */
  launchHours: Schema.optionalKey(Schema.Number)
})
export type RankedPlacement = typeof RankedPlacement.Type

export const JobPolicy = Schema.Struct({
  policy: Schema.Literals(ONLINE_POLICY_NAMES),
  /** The failover order, best first: what the plan ranked, expanded to every zone the profile can launch in. */
  placements: Schema.NonEmptyArray(RankedPlacement),
  /** Hours from the first attempt's start to the deadline; null without one. */
  deadlineHours: Schema.NullOr(Schema.Number),
  /** Hours every relaunch costs before progress resumes (capacity, boot, restore). */
  changeoverHours: Schema.Number,
  /** Steps of the whole run, to turn the newest checkpoint into progress; 0 when unknown (progress then counts as none). */
  totalSteps: Schema.Number,
  /** Minutes a pool that failed to provision, or a zone that reclaimed spot, is set aside. */
  coolDownMinutes: Schema.Number,
  /** Hours a policy's "wait" lasts before it is asked again. */
  waitHours: Schema.Number,
  /** Where the checkpoints are kept; attempts in other regions pay to move them. Null: next to each attempt. */
  checkpointRegion: Schema.NullOr(Schema.String),
  /** Size of one checkpoint, GB, for transfer charges until the trainer reports its own. */
  checkpointGB: Schema.Number,
  /** Where the prices came from (`embedded 2026-07-09`). */
  catalog: Schema.String,
  /** An inference service: it runs until stopped, so its attempts have no horizon (no Slurm `--time`). */
  service: Schema.optionalKey(Schema.Boolean)
})
export type JobPolicy = typeof JobPolicy.Type

export const JobPolicyJson = Schema.fromJsonString(JobPolicy)
export const encodeJobPolicy = Schema.encodeSync(JobPolicyJson)
export const decodeJobPolicy = Schema.decodeUnknownEffect(JobPolicyJson)

export type LaunchChoice =
  | { readonly _tag: "Launch"; readonly placement: Placement; readonly why: string }
  | { readonly _tag: "Wait"; readonly hours: number; readonly why: string }
  | { readonly _tag: "Stop"; readonly reason: string }

export interface ChoiceContext {
  /** Every attempt so far, oldest first, the one that just ended included. */
  readonly attempts: ReadonlyArray<AttemptRecord>
  readonly lastExit: AttemptExit
  readonly current: Placement
  readonly lastCheckpointStep: number | null
  readonly nowMillis: number
  /** Hours already spent waiting since the last attempt ended (a policy's wait, a cool-down). */
  readonly waitedHours?: number
}

const HOUR_MILLIS = 3_600_000
const MIN_COMPUTE_HOURS = 0.01

/** Cool-downs in force now: pool key → when it ends (ms), and the markets set aside region-wide. */
export interface CoolDowns {
  readonly pools: ReadonlyMap<string, number>
  readonly regions: ReadonlyMap<string, number>
}

const regionMarket = (placement: Placement): string =>
  [placement.runner ?? "", placement.region, placement.purchaseOption === "spot" ? "spot" : "on-demand"].join("|")

/** What the attempts have set aside, and until when. */
export const coolDowns = (policy: JobPolicy, attempts: ReadonlyArray<AttemptRecord>, nowMillis: number): CoolDowns => {
  const pools = new Map<string, number>()
  const regions = new Map<string, number>()
  const span = policy.coolDownMinutes * 60_000
  const extend = (map: Map<string, number>, key: string, until: number) => {
    if (until > nowMillis && until > (map.get(key) ?? 0)) map.set(key, until)
  }
  for (const attempt of attempts) {
    const ended = attempt.endedAtMillis ?? attempt.lastSeenAtMillis
    if (attempt.exitReason === "provision-failed") {
      if (attempt.coolDownScope === "region") extend(regions, regionMarket(attempt.placement), ended + span)
      else extend(pools, poolKey(attempt.placement), ended + span)
    } else if ((attempt.exitReason === "interrupted" || attempt.exitReason === "lost") && attempt.placement.purchaseOption === "spot") {
      extend(pools, poolKey(attempt.placement), ended + span)
    }
  }
  return { pools, regions }
}

const coolingUntil = (cool: CoolDowns, placement: Placement): number =>
  Math.max(cool.pools.get(poolKey(placement)) ?? 0, cool.regions.get(regionMarket(placement)) ?? 0)

/** Progress from the newest checkpoint, 0..1; 0 when the job's steps are unknown (`totalSteps` 0). */
const progressOf = (policy: JobPolicy, lastCheckpointStep: number | null): number =>
  policy.totalSteps <= 0 ? 0 : Math.min(1, Math.max(0, (lastCheckpointStep ?? 0) / policy.totalSteps))

/** Hours from the job's first attempt to now. */
export const elapsedHours = (attempts: ReadonlyArray<AttemptRecord>, nowMillis: number): number => {
  const first = attempts[0]?.startedAtMillis ?? nowMillis
  return Math.max(0, (nowMillis - first) / HOUR_MILLIS)
}

/**
 * Hours the rest of the job takes if launched here now: one launch (the placement's own launch time, at least the
 * policy's changeover) and the rest of its running hours.
 */
export const hoursToFinish = (policy: JobPolicy, ranked: RankedPlacement, progress: number): number => {
  const launch = ranked.launchHours ?? 0
  return Math.max(policy.changeoverHours, launch) + Math.max(0, ranked.expectedHours - launch) * (1 - progress)
}

/**
 * What one attempt launched at `placement` now is expected to need, for engines that take a time limit (Slurm's
 * `--time`): its uninterrupted hours there (`baseHours`) times the work the newest checkpoint leaves, and the hours
 * left to the deadline (null without one). Recomputed for every attempt, so a failover to a slower partition, or a
 * resume late in the job, asks for what is left there. Null for a service (it runs until stopped) and for a
 * placement not in the failover order.
 */
export const attemptHorizon = (
  policy: JobPolicy,
  placement: Placement,
  attempts: ReadonlyArray<AttemptRecord>,
  lastCheckpointStep: number | null,
  nowMillis: number
): AttemptHorizon | null => {
  if (policy.service === true) return null
  const key = poolKey(placement)
  const ranked = policy.placements.find((entry) => poolKey(entry.placement) === key && entry.placement.instanceCount === placement.instanceCount)
  if (ranked === undefined || !Number.isFinite(ranked.baseHours) || ranked.baseHours < 0) return null
  const progress = progressOf(policy, lastCheckpointStep)
  return {
    workHours: ranked.baseHours * (1 - progress),
    deadlineHours: policy.deadlineHours === null ? null : Math.max(0, policy.deadlineHours - elapsedHours(attempts, nowMillis))
  }
}

/** Whether the rest of the job, started here after `delayHours`, is expected to end before the deadline. */
const meetsDeadline = (policy: JobPolicy, ranked: RankedPlacement, progress: number, elapsed: number, delayHours: number): boolean =>
  policy.deadlineHours === null || elapsed + delayHours + hoursToFinish(policy, ranked, progress) <= policy.deadlineHours + 1e-9

const clusterOf = (placement: Placement): string | null =>
  placement.pool === undefined || placement.pool === null ? null : placement.pool.slice(0, placement.pool.indexOf("/"))

/**
 * What a job can move between without changing speed: on one engine, the same instance count and accelerators —
 * on EC2 the same instance type (in any zone and market), on a cluster the same cluster (its preemptible and its
 * on-demand partitions or pools).
 */
const sameGroup = (a: Placement, b: Placement): boolean =>
  (a.runner ?? "") === (b.runner ?? "") && a.instanceCount === b.instanceCount && a.accelerator === b.accelerator &&
  a.acceleratorsPerInstance === b.acceleratorsPerInstance &&
  (clusterOf(a) === null && clusterOf(b) === null ? a.instanceType === b.instanceType : clusterOf(a) === clusterOf(b))

/** The placements that can be tried now: not cooling down, still meeting the deadline, in rank order. */
export const launchable = (policy: JobPolicy, context: ChoiceContext): ReadonlyArray<RankedPlacement> => {
  const cool = coolDowns(policy, context.attempts, context.nowMillis)
  const progress = progressOf(policy, context.lastCheckpointStep)
  const elapsed = elapsedHours(context.attempts, context.nowMillis)
  return policy.placements.filter((ranked) =>
    coolingUntil(cool, ranked.placement) <= context.nowMillis && meetsDeadline(policy, ranked, progress, elapsed, 0)
  )
}

/** When nothing can be tried now: wait for the first cool-down after which something meets the deadline, or stop. */
const waitOrStop = (policy: JobPolicy, context: ChoiceContext): LaunchChoice => {
  const cool = coolDowns(policy, context.attempts, context.nowMillis)
  const progress = progressOf(policy, context.lastCheckpointStep)
  const elapsed = elapsedHours(context.attempts, context.nowMillis)
  let best: { readonly until: number; readonly ranked: RankedPlacement } | null = null
  for (const ranked of policy.placements) {
    const until = coolingUntil(cool, ranked.placement)
    if (until <= context.nowMillis) continue
    const delay = (until - context.nowMillis) / HOUR_MILLIS
    if (meetsDeadline(policy, ranked, progress, elapsed, delay) && (best === null || until < best.until)) best = { until, ranked }
  }
  if (best !== null) {
    const hours = (best.until - context.nowMillis) / HOUR_MILLIS
    return {
      _tag: "Wait",
      hours,
      why: `every placement that can still meet the deadline is cooling down after capacity errors or reclaims; ` +
        `${describePlacement(best.ranked.placement)} is free again in ${Math.ceil(hours * 60)} min`
    }
  }
  const left = policy.deadlineHours === null ? null : policy.deadlineHours - elapsed
  return {
    _tag: "Stop",
    reason: left === null
      ? "no placement is left to try: every one failed to provision or was reclaimed and none is expected back"
      : `constraints.deadlineHours: no placement can finish the ${Math.round((1 - progress) * 100)}% of the work left ` +
        `in the ${Math.max(0, left).toFixed(2)} h left before the deadline`
  }
}

/**
 * The job state and spot history the planner's policy reads, over the spot placements of one group (an instance type
 * and count on one engine): zone `i` of the policy is `spotZones[i]`. A zone is available unless it is cooling down;
 * its history is what the attempts saw there (up while an attempt ran, down from a reclaim).
 */
export const policyInputs = (
  policy: JobPolicy,
  context: ChoiceContext,
  spotZones: ReadonlyArray<RankedPlacement>,
  onDemand: RankedPlacement
): { readonly state: JobState; readonly history: EventSpotHistory } => {
  const first = context.attempts[0]?.startedAtMillis ?? context.nowMillis
  const hoursAt = (millis: number) => Math.max(0, (millis - first) / HOUR_MILLIS)
  const elapsed = hoursAt(context.nowMillis) + (context.waitedHours ?? 0)
  const cool = coolDowns(policy, context.attempts, context.nowMillis)
  const history = new EventSpotHistory()
  const available = spotZones.map((ranked) => (coolingUntil(cool, ranked.placement) > context.nowMillis ? 0 : 1))
  spotZones.forEach((_, zone) => history.observe(zone, true, 0))
  for (const attempt of context.attempts) {
    const zone = spotZones.findIndex((ranked) => poolKey(ranked.placement) === poolKey(attempt.placement))
    if (zone < 0 || attempt.exitReason === "provision-failed") continue
    history.observe(zone, true, hoursAt(attempt.startedAtMillis))
    if (attempt.exitReason === "interrupted" || attempt.exitReason === "lost") {
      history.observe(zone, false, hoursAt(attempt.endedAtMillis ?? attempt.lastSeenAtMillis))
    }
  }
  spotZones.forEach((_, zone) => {
    if (available[zone] === 1) history.observe(zone, true, elapsed)
  })
  history.advanceTo(elapsed)
  const progress = progressOf(policy, context.lastCheckpointStep)
  // Plans round hours to 0.01 h; a shorter job still has work for the policy to place.
  const computeHours = Math.max(MIN_COMPUTE_HOURS, spotZones[0]?.baseHours ?? onDemand.baseHours)
  const hoursLeft = Math.max(1e-6, computeHours * (1 - progress))
  // Moving the checkpoint to another region is paid once per move: spread over the hours left, it is part of the price.
  const transferPerHour = (placement: Placement) =>
    policy.checkpointRegion === null || placement.region === policy.checkpointRegion
      ? 0
      : (policy.checkpointGB * 0.02) / hoursLeft
  const state: JobState = {
    computeHours,
    deadlineHours: policy.deadlineHours ?? 8760,
    changeoverHours: policy.changeoverHours,
    elapsedHours: elapsed,
    computeHoursLeft: computeHours * (1 - progress),
    hoursToDeadline: (policy.deadlineHours ?? 8760) - elapsed,
    overheadHoursLeft: 0,
    stepHours: policy.waitHours,
    spotHoldsForStep: false,
    // The attempt has ended: nothing is held while the policy decides.
    holding: NONE,
    spotAvailable: available,
    spotPriceUsdPerHour: spotZones.map((ranked) =>
      ranked.placement.hourlyPriceUsd * ranked.placement.instanceCount + transferPerHour(ranked.placement)
    ),
    onDemandPriceUsdPerHour: onDemand.placement.hourlyPriceUsd * onDemand.placement.instanceCount + transferPerHour(onDemand.placement),
    seed: 0
  }
  return { state, history }
}

const policyNamed = (name: JobPolicy["policy"]): Policy | undefined => onlinePolicyByName(name)

/** The next attempt's placement, a wait, or the end of the job (pure). */
export const chooseNext = (policy: JobPolicy, context: ChoiceContext): LaunchChoice => {
  const open = launchable(policy, context)
  const first = open[0]
  if (first === undefined) return waitOrStop(policy, context)
  const exit = context.lastExit
  const currentKey = poolKey(context.current)

  if (exit._tag === "ProvisionFailed") {
    return { _tag: "Launch", placement: first.placement, why: `failover after ${exit.code}: next in the plan's order` }
  }
  if (exit._tag === "Crashed") {
    const same = open.find((ranked) => poolKey(ranked.placement) === currentKey)
    return same === undefined
      ? { _tag: "Launch", placement: first.placement, why: "relaunch after a crash: its placement can no longer meet the deadline" }
      : { _tag: "Launch", placement: same.placement, why: "relaunch after a crash, where it ran" }
  }
  if (exit._tag === "Completed" || exit._tag === "Cancelled") {
    return { _tag: "Stop", reason: exit._tag === "Completed" ? "completed" : "cancelled" }
  }

  // A reclaim (or an attempt nobody saw end): the spot policy decides, over the group the job was running in, or
  // over the best group still open when nothing of that group is.
  const inGroup = (group: Placement) => (ranked: RankedPlacement) => sameGroup(ranked.placement, group)
  const groupOf = open.some(inGroup(context.current)) ? context.current : first.placement
  const spotZones = policy.placements.filter((ranked) => ranked.placement.purchaseOption === "spot" && inGroup(groupOf)(ranked))
  const onDemand = open.find((ranked) => ranked.placement.purchaseOption !== "spot" && inGroup(groupOf)(ranked)) ??
    open.find((ranked) => ranked.placement.purchaseOption !== "spot")
  const chosen = policyNamed(policy.policy)
  if (chosen === undefined || onDemand === undefined || spotZones.length === 0) {
    return { _tag: "Launch", placement: first.placement, why: `after ${describeExitShort(exit)}: next in the plan's order` }
  }
  const { history, state } = policyInputs(policy, context, spotZones, onDemand)
  const holding = chosen.decide(state, history)
  if (holding.kind === "on-demand") {
    return { _tag: "Launch", placement: onDemand.placement, why: `policy ${policy.policy}: on-demand, given ${hoursLeftText(state)}` }
  }
  if (holding.kind === "spot") {
    const zone = spotZones[holding.zone]
    const stillOpen = zone !== undefined && open.some((ranked) => poolKey(ranked.placement) === poolKey(zone.placement))
    if (zone !== undefined && stillOpen) {
      return { _tag: "Launch", placement: zone.placement, why: `policy ${policy.policy}: spot in ${zone.placement.availabilityZone ?? zone.placement.region}, given ${hoursLeftText(state)}` }
    }
    return { _tag: "Launch", placement: first.placement, why: `policy ${policy.policy} chose a zone that is not open: next in the plan's order` }
  }
  return { _tag: "Wait", hours: policy.waitHours, why: `policy ${policy.policy}: no spot capacity known now and the deadline has room` }
}

const hoursLeftText = (state: JobState): string =>
  `${state.computeHoursLeft.toFixed(2)} compute hours left and ${state.hoursToDeadline.toFixed(2)} h to the deadline`

const describeExitShort = (exit: AttemptExit): string =>
  exit._tag === "Interrupted" ? `an interruption${exit.reason === undefined ? "" : ` (${exit.reason})`}` : "a lost attempt"
