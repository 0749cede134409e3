/**
 * `plan`: one workload → ranked placements over a `Catalog` value. Pure (no services, no clock, no I/O): the same
 * workload and catalog give the same plan, byte for byte once serialised. `Planner.ts` is the Effect wrapper that
 * asks the `PriceCatalog` service for the catalog. How each figure is computed: docs/planner.md.
 */
import { formatUsd, NoFeasiblePlacement, type PurchaseOption, type Workload } from "@frugal/core"
import { type Catalog, DEFAULT_SPOT_EXPOSURE_HOURS } from "@frugal/pricing"
import { Effect } from "effect"
import type { PoolUsage } from "./Capacity.ts"
import { type CatalogIndex, indexCatalog, shownZone } from "./CatalogIndex.ts"
import { type Candidate, PURCHASE_ORDER, type Settings } from "./Candidate.ts"
import { enumerateCandidates } from "./Candidates.ts"
import type { Diagnostics } from "./Diagnostics.ts"
import { type CostAssumptions, DEFAULT_COST_ASSUMPTIONS } from "./PlacementCost.ts"
import { type ReasonContext, toOption } from "./PlanOutput.ts"
import { gib, hoursOf, type InfeasiblePlan, type Plan, type PlanCatalog, type Requirements } from "./PlanResult.ts"
import { coreEstimator, type Estimator, type Needs, workloadNeeds } from "./Requirements.ts"

export interface PlanOptions {
  /** Options to return, best first (default 20). */
  readonly top?: number | undefined
  /** Replaces core's estimates (tests; calibration from measured throughput). */
  readonly estimator?: Estimator | undefined
  /** Overrides of the cost model's assumptions (docs/planner.md). */
  readonly assumptions?: Partial<CostAssumptions> | undefined
  /**
   * Hours of exposure the advisor's interruption share is read over (default `DEFAULT_SPOT_EXPOSURE_HOURS`, 12 h:
   * conservative for GPUs; 730 is the literal monthly reading). See `SpotRisk` and docs/catalog.md.
   */
  readonly spotExposureHours?: number | undefined
  /**
   * `requirements.byAccelerator` lists every accelerator that holds the workload (default) or only the recommended
   * one (`false`; fleets default to it, which saves an estimate per accelerator and workload).
   */
  readonly requirementsForAllAccelerators?: boolean | undefined
}

export const DEFAULT_TOP = 20

// Fleets repeat the same few region lists and purchase options across thousands of members, and keep every member's
// settings to the end: one set per distinct list (up to a bound, so a long-lived process does not grow without end).
const sharedSets = new Map<string, ReadonlySet<string>>()
const SHARED_SETS_KEPT = 1024

const sharedSet = <A extends string>(kind: string, values: ReadonlyArray<A>): ReadonlySet<A> => {
  const key = `${kind}:${values.join(",")}`
  const known = sharedSets.get(key)
  if (known !== undefined) return known as ReadonlySet<A>
  const set = new Set(values)
  if (sharedSets.size < SHARED_SETS_KEPT) sharedSets.set(key, set)
  return set
}

export const planSettings = (workload: Workload, options: PlanOptions = {}): Settings => {
  const purchaseOptions = workload.resources?.purchaseOptions ?? PURCHASE_ORDER
  const perMonth = workload.kind === "inference"
  return {
    workload,
    regions: workload.constraints.regions === undefined ? null : sharedSet("regions", workload.constraints.regions),
    instanceTypes: null,
    trackOnDemand: false,
    requirementsForAllAccelerators: options.requirementsForAllAccelerators ?? true,
    purchase: sharedSet("purchase", purchaseOptions),
    interruptible: workload.constraints.interruptible,
    deadlineHours: perMonth ? null : workload.constraints.deadlineHours ?? null,
    budgetUsd: workload.constraints.budgetUsd ?? null,
    perMonth,
    assumptions: options.assumptions === undefined ? DEFAULT_COST_ASSUMPTIONS : { ...DEFAULT_COST_ASSUMPTIONS, ...options.assumptions },
    exposureHours: options.spotExposureHours ?? DEFAULT_SPOT_EXPOSURE_HOURS,
    poolUsage: null
  }
}

const catalogInfos = new WeakMap<Catalog, PlanCatalog>()

/** The catalog's source as plans report it (one shared object per catalog). */
export const catalogInfo = (catalog: Catalog): PlanCatalog => {
  let info = catalogInfos.get(catalog)
  if (info === undefined) {
    info = { source: catalog.source.kind, asOf: catalog.source.asOf, description: catalog.source.description, notes: catalog.source.notes }
    catalogInfos.set(catalog, info)
  }
  return info
}

const purchaseOptionLists = new Map<string, ReadonlyArray<PurchaseOption>>()

/** The purchase options a plan considered, in a fixed order (one shared array per combination). */
const allowedPurchaseOptions = (settings: Settings): ReadonlyArray<PurchaseOption> => {
  const list = PURCHASE_ORDER.filter((p) => settings.purchase.has(p) && (p !== "spot" || settings.interruptible))
  const key = list.join(",")
  const known = purchaseOptionLists.get(key)
  if (known !== undefined) return known
  purchaseOptionLists.set(key, list)
  return list
}

const describe = (c: Candidate): string => `${c.indexed.type.name} × ${c.instances} ${c.purchaseOption} in ${shownZone(c.zone) ?? c.region}`

/** The constraint that binds when nothing is feasible, in words a user can act on. */
const bindingConstraint = (
  workload: Workload,
  settings: Settings,
  needs: Needs,
  diagnostics: Diagnostics
): { readonly constraint: string; readonly detail: string } => {
  if (needs.byAccelerator.size === 0) {
    if (workload.resources?.accelerators !== undefined) {
      return {
        constraint: "resources.accelerators",
        detail: `none of ${workload.resources.accelerators.map((a) => a.count === null ? a.accelerator : `${a.accelerator}:${a.count}`).join(", ")} can hold the workload`
      }
    }
    const hint = needs.nonCudaExcluded.length === 0
      ? ""
      : ` (non-CUDA accelerators were not considered; name one in resources.accelerators to allow it)`
    return workload.kind === "training"
      ? { constraint: "model.parameters", detail: `no accelerator in the catalog holds the model on up to 1,024 GPUs${hint}` }
      : workload.kind === "inference"
      ? { constraint: "inference.tokensPerSecond", detail: `no accelerator in the catalog reaches the throughput on up to 1,024 GPUs${hint}` }
      : { constraint: "batch.minGpuMemoryGiB", detail: `no accelerator in the catalog has that much memory${hint}` }
  }
  if (diagnostics.candidates === 0) {
    if (diagnostics.regionFiltered > 0 && diagnostics.purchaseFiltered === 0) {
      return {
        constraint: "constraints.regions",
        detail: `no instance type that holds the workload is offered in ${(workload.constraints.regions ?? []).join(", ")}`
      }
    }
    if (diagnostics.spotOnlyExcluded > 0 && !settings.interruptible) {
      return {
        constraint: "constraints.interruptible",
        detail: "only spot offers hold the workload in these regions, and it is not interruptible"
      }
    }
    if (diagnostics.purchaseFiltered > 0) {
      return {
        constraint: "resources.purchaseOptions",
        detail: `no offer of ${[...settings.purchase].join(", ")} for an instance type that holds the workload`
      }
    }
    return {
      constraint: workload.resources?.accelerators !== undefined ? "resources.accelerators" : "model.parameters",
      detail: "no instance type in the catalog can be combined into a placement that holds the workload"
    }
  }
  const { fastest, cheapestMeetingDeadline } = diagnostics
  if (settings.deadlineHours !== null && cheapestMeetingDeadline === null && fastest !== null) {
    return {
      constraint: "constraints.deadlineHours",
      detail: `the fastest option needs ${hoursOf(fastest.expectedHours)} h (${describe(fastest)}); the deadline is ${settings.deadlineHours} h`
    }
  }
  const cheapest = cheapestMeetingDeadline ?? diagnostics.cheapest
  return {
    constraint: "constraints.budgetUsd",
    detail: cheapest === null
      ? "no option fits the budget"
      : `the cheapest option${settings.deadlineHours === null ? "" : " meeting the deadline"} costs ${formatUsd(cheapest.expectedCostUsd)}${settings.perMonth ? "/month" : ""} (${describe(cheapest)}); the budget is ${formatUsd(settings.budgetUsd ?? 0)}`
  }
}

const requirementsOf = (needs: Needs, accelerator: string, all: boolean): Requirements => {
  const byAccelerator: Record<string, Requirements["byAccelerator"][string]> = {}
  for (const name of all ? [...needs.byAccelerator.keys()].sort() : [accelerator]) {
    const need = needs.byAccelerator.get(name)
    if (need === undefined) continue
    const estimate = need.estimate(need.minGpus)
    byAccelerator[name] = {
      minGpus: need.minGpus,
      memoryGiB: gib(estimate.memory.totalGiB),
      perGpuMemoryGiB: gib(estimate.memory.perGpuGiB),
      hours: hoursOf(estimate.hours)
    }
  }
  const chosen = needs.byAccelerator.get(accelerator)
  const estimate = chosen?.estimate(chosen.minGpus)
  return {
    accelerator,
    memoryGiB: estimate === undefined ? 0 : gib(estimate.memory.totalGiB),
    perGpuMemoryGiB: estimate === undefined ? 0 : gib(estimate.memory.perGpuGiB),
    minGpus: chosen?.minGpus ?? 0,
    sharding: estimate?.sharding ?? "none",
    byAccelerator
  }
}

const SERVICE_NOTE = (hours: number): string =>
  `A service: hours and costs are per month (${hours} h); commitments assume it runs for their whole term; data transfer is one-time and not in the monthly cost.`
const ESTIMATE_NOTE = "Options marked priceIsEstimate use modelled commitment rates (published discount levels), not quotes."
const NON_CUDA_NOTE = (names: ReadonlyArray<string>): string =>
  `Non-CUDA accelerators (${names.join(", ")}) were left out: CUDA builds of PyTorch and serving stacks do not run on them. ` +
  "Name one in resources.accelerators to allow it (Neuron serving on Inferentia2, for example)."
const SPOT_NOTE = (exposureHours: number): string =>
  "Spot options are priced as the Supervisor runs them: checkpoint writes at the Young/Daly interval, redone work, relaunches, waits for " +
  "capacity, and on-demand fallback for what spot cannot finish by the deadline. Interruption rates read each Spot Instance " +
  `Advisor bucket's upper edge (>20%: 30%) as the chance of a reclaim within ${exposureHours} h of running; a type the advisor does not list is priced as >20%. ` +
  "The chance that a pool launches a gang comes from its spot placement score where the catalog has one, else from a prior by instance size, bucket and count (docs/planner.md)."
const SUSPICIOUS_NOTE =
  "Spot prices 88% or more under on-demand (or of types sold on demand nowhere) with no placement score and no advisor entry sit at AWS's floor, " +
  "where pools nobody can launch in keep their price: they are priced with a 20% chance of capacity per instance, the rest on on-demand."
const STATED_NOTE =
  "Cluster capacity from the infrastructure profile is taken as stated: a partition's or pool's nodes launch for certain up to their count, " +
  "at the profile's price, and a preemptible partition or spot pool is interrupted at the rate it states (preemptionsPerHour, per node-hour; " +
  "P(reclaim within h hours) = 1 − e^(−rate·h)); one that states none is priced as >20%."
const LAUNCH_NOTE =
  "Hours and costs include each attempt's launch: capacity request, boot and image pull (10 min), the data download and the model's " +
  "pretrained weights at 0.5 GB/s in the data's region (0.1 GB/s from another), billed per second with EC2's 60-second minimum."

/** Notes are shared between plans (a fleet of thousands holds one copy of each). */
const notesCache = new Map<string, ReadonlyArray<string>>()

const planNotes = (settings: Settings, ranked: ReadonlyArray<Candidate>, needs: Needs, floorPriceSeen: boolean): ReadonlyArray<string> => {
  const hours = settings.perMonth && settings.workload.kind === "inference" ? settings.workload.inference.hoursPerMonth : null
  const estimate = ranked.some((c) => c.priceIsEstimate)
  const spot = ranked.some((c) => c.purchaseOption === "spot")
  const suspicious = floorPriceSeen || ranked.some((c) => c.capacity.basis === "suspicious-price")
  const stated = ranked.some((c) => c.indexed.statedCapacity)
  const launch = !settings.perMonth
  const nonCuda = needs.nonCudaExcluded.join(",")
  const key = `${hours}|${estimate}|${spot}|${suspicious}|${stated}|${launch}|${settings.exposureHours}|${nonCuda}`
  let notes = notesCache.get(key)
  if (notes === undefined) {
    notes = [
      ...(hours === null ? [] : [SERVICE_NOTE(hours)]),
      ...(estimate ? [ESTIMATE_NOTE] : []),
      ...(launch ? [LAUNCH_NOTE] : []),
      ...(spot ? [SPOT_NOTE(settings.exposureHours)] : []),
      ...(suspicious ? [SUSPICIOUS_NOTE] : []),
      ...(stated ? [STATED_NOTE] : []),
      ...(nonCuda === "" ? [] : [NON_CUDA_NOTE(needs.nonCudaExcluded)])
    ]
    notesCache.set(key, notes)
  }
  return notes
}

/** A plan with what fleets need from the enumeration behind it. */
export interface Evaluation {
  readonly plan: Plan | InfeasiblePlan
  readonly settings: Settings
  /** The cheapest feasible on-demand placement, if any (fleets cover it with owned savings plans). */
  readonly bestOnDemand: Candidate | null
}

export const evaluate = (
  workload: Workload,
  index: CatalogIndex,
  options: PlanOptions = {},
  trackOnDemand = false,
  poolUsage: PoolUsage | null = null
): Evaluation => {
  const settings = { ...planSettings(workload, options), trackOnDemand, poolUsage }
  const needs = workloadNeeds(workload, index.accelerators, options.estimator ?? coreEstimator)
  const top = Math.max(1, Math.floor(options.top ?? DEFAULT_TOP))
  const { top: ranked, diagnostics } = enumerateCandidates(index, needs, settings, top)
  const context = {
    ranked,
    bestCommitment: diagnostics.bestCommitment,
    bestSpot: diagnostics.bestSpot,
    spotAboveTopList: diagnostics.spotAboveTopList
  }
  const best = ranked[0]
  const bestOnDemand = diagnostics.bestOnDemand !== null && diagnostics.bestOnDemand.meetsDeadline && diagnostics.bestOnDemand.withinBudget
    ? diagnostics.bestOnDemand
    : null
  if (best === undefined || !(best.meetsDeadline && best.withinBudget)) {
    const { constraint, detail } = bindingConstraint(workload, settings, needs, diagnostics)
    needs.forgetEstimates()
    return {
      plan: {
        workload: workload.name,
        kind: workload.kind,
        status: "infeasible",
        constraint,
        detail,
        options: ranked.map((c, i) => toOption(c, settings, context, i === 0))
      },
      settings,
      bestOnDemand
    }
  }
  const plan = planOf(workload, index, settings, needs, ranked, context, diagnostics)
  needs.forgetEstimates()
  return { plan, settings, bestOnDemand }
}

/** The plan, or the binding constraint when nothing is feasible. Pure and synchronous. */
export const evaluatePlan = (workload: Workload, index: CatalogIndex, options: PlanOptions = {}): Plan | InfeasiblePlan =>
  evaluate(workload, index, options).plan

const planOf = (
  workload: Workload,
  index: CatalogIndex,
  settings: Settings,
  needs: Needs,
  ranked: ReadonlyArray<Candidate>,
  context: ReasonContext,
  diagnostics: Diagnostics
): Plan => {
  const best = ranked[0]
  if (best === undefined) throw new Error("planOf needs a recommendation")
  return {
    workload: workload.name,
    kind: workload.kind,
    status: "ok",
    costPeriod: settings.perMonth ? "month" : "job",
    requirements: requirementsOf(needs, best.indexed.type.accelerator, settings.requirementsForAllAccelerators),
    constraints: {
      deadlineHours: settings.deadlineHours,
      budgetUsd: settings.budgetUsd,
      regions: workload.constraints.regions ?? null,
      interruptible: settings.interruptible,
      purchaseOptions: allowedPurchaseOptions(settings)
    },
    options: ranked.map((c, i) => toOption(c, settings, context, i === 0)),
    placementsPriced: diagnostics.candidates,
    catalog: catalogInfo(index.catalog),
    notes: planNotes(settings, ranked, needs, diagnostics.floorPricedZones > 0)
  }
}

/**
 * Ranked placements for one workload: options meeting every constraint first, cheapest expected cost first;
 * `options[0]` is the recommendation. Fails with `NoFeasiblePlacement` naming the binding constraint.
 */
export const plan = (workload: Workload, catalog: Catalog, options: PlanOptions = {}): Effect.Effect<Plan, NoFeasiblePlacement> =>
  Effect.suspend(() => {
    const result = evaluatePlan(workload, indexCatalog(catalog), options)
    return result.status === "ok"
      ? Effect.succeed(result)
      : Effect.fail(new NoFeasiblePlacement({ workload: result.workload, constraint: result.constraint, detail: result.detail }))
  })
