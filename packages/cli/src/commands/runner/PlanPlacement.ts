/**
 * `frugal run --placement-from-plan` / `--policy P`: the placements a job moves between come from the
 * workload's plan. The recommended instance type gives two: its spot option (the plan's cheapest zone,
 * with that zone's interruption rate) and its on-demand option in the same region; after each early end
 * the chosen spot policy of `@frugal/planner` picks one of them for the next attempt. The settings are
 * kept next to the job's checkpoints (`policy.json`) so that `frugal run --resume JOB` keeps the policy.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { InvalidInput, type NoFeasiblePlacement, type Workload } from "@frugal/core"
import {
  DEFAULT_COST_ASSUMPTIONS,
  type Estimator,
  onDemandPolicy,
  onlinePolicyByName,
  type Plan,
  type PlacementOption,
  Planner,
  type Policy
} from "@frugal/planner"
import type { PriceCatalog, PriceCatalogError } from "@frugal/pricing"
import { Placement, type PolicyPlacementOptions } from "@frugal/runner"

export const POLICY_NAMES = ["on-demand", "greedy", "uniform-progress", "frugal"] as const

/** What `policy.json` holds: the policy's name and everything `policyPlacement` needs. */
export const PlanPolicy = Schema.Struct({
  policy: Schema.Literals(POLICY_NAMES),
  /** The placement of the first attempt: the plan's recommendation (spot where it recommends spot). */
  first: Placement,
  spotZones: Schema.Array(Placement),
  onDemand: Placement,
  computeHours: Schema.Number,
  deadlineHours: Schema.Number,
  changeoverHours: Schema.Number,
  totalSteps: Schema.Number,
  /** Where the prices came from (`embedded 2026-07-09`), for the output. */
  catalog: Schema.String
})
export type PlanPolicy = typeof PlanPolicy.Type

const PlanPolicyJson = Schema.fromJsonString(PlanPolicy)

const flagError = (flag: string, expected: string, actual?: string) =>
  new InvalidInput({ source: flag, issues: [{ path: flag, expected, ...(actual === undefined ? {} : { actual }) }] })

/** A plan option as the runner's placement. `local` keeps the accelerator null: the local runner's steps are this machine's, not the planned GPU's, so its measured throughput must not be filed under that GPU. */
export const optionPlacement = (option: PlacementOption, local: boolean): Placement => ({
  instanceType: option.instanceType,
  region: option.region,
  availabilityZone: option.purchaseOption === "spot" ? option.availabilityZone : null,
  purchaseOption: option.purchaseOption,
  hourlyPriceUsd: option.hourlyPriceUsd,
  instanceCount: option.instanceCount,
  accelerator: local ? null : option.gpu,
  acceleratorsPerInstance: local ? 0 : option.gpusPerInstance,
  interruptionsPerHour: option.purchaseOption === "spot" ? option.interruptionRisk?.interruptionsPerHour ?? 0 : 0
})

/** Steps of the whole run, as the reference trainer counts them (tokens ÷ tokens per step). */
const totalSteps = (workload: Extract<Workload, { kind: "training" }>): number =>
  Math.max(1, Math.ceil(workload.training.tokens / (workload.training.microBatchSize * workload.training.sequenceLength)))

/** The plan's hours are rounded to 0.01 h; a shorter job still has work left for the policy to place. */
const MIN_COMPUTE_HOURS = 0.01

/**
 * From the plan of the workload and the plan of the same workload held to the recommendation's region
 * (where the planner keeps both the spot and the on-demand option of every type), the policy settings. Pure.
 */
export const planPolicyFrom = (
  workload: Extract<Workload, { kind: "training" }>,
  policy: PlanPolicy["policy"],
  plan: Plan,
  regionPlan: Plan,
  local: boolean
): PlanPolicy | string => {
  const recommended = plan.options[0]
  if (recommended === undefined) return "the plan has no option"
  const sameType = (option: PlacementOption) =>
    option.instanceType === recommended.instanceType && option.instanceCount === recommended.instanceCount &&
    option.region === recommended.region && !option.owned
  const spot = recommended.purchaseOption === "spot"
    ? recommended
    : regionPlan.options.find((option) => sameType(option) && option.purchaseOption === "spot")
  const onDemand = regionPlan.options.find((option) => sameType(option) && option.purchaseOption === "on-demand")
  if (onDemand === undefined) {
    return `no on-demand offer of ${recommended.instanceType} in ${recommended.region} to fall back on`
  }
  const deadlineHours = workload.constraints.deadlineHours
  const computeHours = Math.max(MIN_COMPUTE_HOURS, (spot ?? onDemand).baseHours)
  const onDemandPlacement = optionPlacement(onDemand, local)
  const spotPlacement = spot === undefined ? null : optionPlacement(spot, local)
  return {
    policy,
    first: spotPlacement ?? onDemandPlacement,
    spotZones: spotPlacement === null ? [] : [spotPlacement],
    onDemand: onDemandPlacement,
    computeHours,
    // Without a deadline the policy may use all the time in the world: a year.
    deadlineHours: deadlineHours ?? 8760,
    // Each relaunch: the planner's restart allowance (a replacement instance, start-up, checkpoint read).
    changeoverHours: DEFAULT_COST_ASSUMPTIONS.restartHours,
    totalSteps: totalSteps(workload),
    catalog: `${plan.catalog.source} ${plan.catalog.asOf ?? ""}`.trim()
  }
}

/** Plans the workload and derives the policy settings; exit 2 naming the flag when the plan cannot give them. */
export const planPolicy = (
  workload: Workload,
  policy: PlanPolicy["policy"],
  local: boolean,
  /** The ledger's calibration, so C uses the MFU measured on earlier runs where there is one. */
  estimator?: Estimator
): Effect.Effect<PlanPolicy, InvalidInput | NoFeasiblePlacement | PriceCatalogError, PriceCatalog> =>
  Effect.gen(function*() {
    if (workload.kind !== "training") {
      return yield* flagError("--placement-from-plan", "a training workload (its steps measure progress)", workload.kind)
    }
    const plan = yield* Planner.plan(workload, { top: 1, estimator })
    const recommended = plan.options[0]
    // Held to its region, without deadline or budget (the recommendation meets them; its on-demand twin need not).
    const { budgetUsd: _budget, deadlineHours: _deadline, ...constraints } = workload.constraints
    const regionPlan = recommended === undefined
      ? plan
      : yield* Planner.plan({ ...workload, constraints: { ...constraints, regions: [recommended.region] } }, { top: 1000, estimator })
    const settings = planPolicyFrom(workload, policy, plan, regionPlan, local)
    if (typeof settings === "string") return yield* flagError("--placement-from-plan", "a plan with spot or on-demand options", settings)
    return settings
  })

/** The policy by name (the flag and the schema admit only the online policies' names). */
export const policyNamed = (name: PlanPolicy["policy"]): Policy => onlinePolicyByName(name) ?? onDemandPolicy

export const policyOptions = (settings: PlanPolicy): PolicyPlacementOptions => ({
  spotZones: settings.spotZones,
  onDemand: settings.onDemand,
  computeHours: settings.computeHours,
  deadlineHours: settings.deadlineHours,
  changeoverHours: settings.changeoverHours,
  totalSteps: settings.totalSteps
})

/** Written once when the job is created: temp file + rename, so a partial write never replaces a good file. */
export const savePlanPolicy = (jobDirectory: string, settings: PlanPolicy): void => {
  mkdirSync(jobDirectory, { recursive: true })
  const path = join(jobDirectory, "policy.json")
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, Schema.encodeSync(PlanPolicyJson)(settings), { flush: true })
  renameSync(temporary, path)
}

/** The job's saved policy, or null for a job that runs where it started (no policy.json). */
export const loadPlanPolicy = (jobDirectory: string): Effect.Effect<PlanPolicy | null, InvalidInput> => {
  const path = join(jobDirectory, "policy.json")
  if (!existsSync(path)) return Effect.succeed(null)
  return Schema.decodeUnknownEffect(PlanPolicyJson)(readFileSync(path, "utf8")).pipe(
    Effect.mapError((error) => new InvalidInput({ source: path, issues: [{ path: "policy.json", expected: "the job's saved policy", actual: error.message }] }))
  )
}

/** The lines `frugal run` prints about where attempts run and what they are charged. */
export const describePlanPolicy = (settings: PlanPolicy, runner: string): ReadonlyArray<string> => {
  const price = (placement: Placement) => `$${placement.hourlyPriceUsd.toFixed(4)}/h`
  const spot = settings.spotZones[0]
  return [
    `  placement from the plan (${settings.catalog} catalog): ${settings.first.instanceCount} × ${settings.first.instanceType} in ${settings.first.region}`,
    ...(spot === undefined
      ? ["    spot: not offered for this type here"]
      : [`    spot ${spot.availabilityZone ?? spot.region} at ${price(spot)}, ${spot.interruptionsPerHour.toFixed(4)} interruptions/h expected`]),
    `    on-demand at ${price(settings.onDemand)}`,
    `  policy ${settings.policy}: after each interruption it picks spot or on-demand for the next attempt ` +
    `(compute ${settings.computeHours.toFixed(2)} h, deadline ${settings.deadlineHours} h after the first attempt)`,
    ...(runner === "local"
      ? ["  local runner: the command runs on this machine either way; only the placement, and so the price each attempt is charged at, changes"]
      : [])
  ]
}
