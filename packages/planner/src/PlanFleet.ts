/**
 * `planFleet`: many workloads against one catalog. Each is planned on its own (the catalog index is built once and
 * shared), then commitments the user already owns are filled first: their cost is sunk, so a workload that fits an
 * owned reservation or the owned savings-plan spend costs only what the commitment does not cover.
 *
 * Owned capacity is pooled over a horizon (default one month, 730 h): a reservation of N instances offers
 * N × horizon instance-hours and never more than N at once; a savings plan offers its hourly commitment × horizon
 * dollars of usage at savings-plan rates. Workloads are served biggest stand-alone cost first (ties by name), so the
 * sunk capacity goes where it saves the most. Timing within the horizon is not scheduled.
 */
import { formatUsd, HOURS_PER_MONTH, type Workload } from "@frugal/core"
import { type Catalog, modelledDiscount } from "@frugal/pricing"
import { PoolTally } from "./Capacity.ts"
import { type CatalogIndex, indexCatalog } from "./CatalogIndex.ts"
import type { Candidate, Settings } from "./Candidate.ts"
import { enumerateCandidates } from "./Candidates.ts"
import { catalogInfo, evaluate, type PlanOptions } from "./Plan.ts"
import { toOption } from "./PlanOutput.ts"
import { fraction, hourly, type InfeasiblePlan, type PlacementOption, type Plan, type PlanCatalog, usd } from "./PlanResult.ts"
import { coreEstimator, workloadNeeds } from "./Requirements.ts"

/** Reserved instances the user already holds. */
export interface OwnedReservation {
  readonly kind: "reserved"
  readonly instanceType: string
  readonly region: string
  /** Instances reserved. */
  readonly count: number
}

/** A savings plan the user already holds. */
export interface OwnedSavingsPlan {
  readonly kind: "savings-plan"
  /** Committed spend per hour at savings-plan rates, USD. */
  readonly commitmentUsdPerHour: number
  /** Fraction off on-demand the plan gives; default: the modelled 1-yr compute savings plan level of each type. */
  readonly discount?: number | undefined
}

export type OwnedCommitment = OwnedReservation | OwnedSavingsPlan

export interface FleetOptions extends PlanOptions {
  readonly owned?: ReadonlyArray<OwnedCommitment> | undefined
  /** Hours over which owned capacity is pooled (default 730). */
  readonly horizonHours?: number | undefined
}

export interface OwnedUse {
  readonly kind: "reserved" | "savings-plan"
  readonly instanceType: string | null
  readonly region: string | null
  /** Reservations: instance-hours; savings plans: USD of committed spend. */
  readonly capacity: number
  readonly used: number
  readonly utilization: number
  /** Workloads it serves, by name. */
  readonly workloads: ReadonlyArray<string>
}

export interface FleetSummary {
  readonly workloads: number
  readonly feasible: number
  readonly infeasible: number
  /** Sum of the recommendations' expected cost over the jobs (training, batch). */
  readonly jobsCostUsd: number
  /** Sum of the recommendations' monthly cost over the services (inference). */
  readonly servicesCostPerMonthUsd: number
  /** What the owned commitments saved against planning each workload alone. */
  readonly ownedCommitmentSavingsUsd: number
  readonly owned: ReadonlyArray<OwnedUse>
}

export interface FleetPlan {
  readonly workloads: ReadonlyArray<Plan | InfeasiblePlan>
  readonly summary: FleetSummary
  readonly catalog: PlanCatalog
}

export const DEFAULT_FLEET_TOP = 3

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The workload's cheapest feasible on-demand placement on one instance type in one region (an owned reservation).
 * Estimates only that type's accelerator.
 */
const onReservation = (
  slot: Slot,
  index: CatalogIndex,
  options: FleetOptions,
  reservation: OwnedReservation
): Candidate | undefined => {
  const type = index.types.find((t) => t.type.name === reservation.instanceType)
  if (type === undefined || type.spec === null) return undefined
  const base = slot.settings
  if (base.regions !== null && !base.regions.has(reservation.region)) return undefined
  const settings: Settings = {
    ...base,
    regions: new Set([reservation.region]),
    instanceTypes: new Set([reservation.instanceType]),
    purchase: new Set(["on-demand"] as const)
  }
  const needs = workloadNeeds(slot.workload, [type.spec], options.estimator ?? coreEstimator)
  const { top } = enumerateCandidates(index, needs, settings, 8)
  return top.find((c) => c.meetsDeadline && c.withinBudget)
}

interface Slot {
  readonly index: number
  readonly workload: Workload
  readonly settings: Settings
  readonly bestOnDemand: Candidate | null
  plan: Plan | InfeasiblePlan
}

const costOf = (plan: Plan | InfeasiblePlan): number => (plan.status === "ok" ? (plan.options[0]?.expectedCostUsd ?? 0) : 0)

/** Replaces a plan's recommendation with an owned-commitment option, keeping the stand-alone options after it. */
const withOwned = (plan: Plan, option: PlacementOption): Plan => ({ ...plan, options: [option, ...plan.options] })

export const planFleet = (workloads: ReadonlyArray<Workload>, catalog: Catalog, options: FleetOptions = {}): FleetPlan => {
  const index = indexCatalog(catalog)
  const planOptions: FleetOptions = {
    ...options,
    top: options.top ?? DEFAULT_FLEET_TOP,
    requirementsForAllAccelerators: options.requirementsForAllAccelerators ?? false
  }
  const trackOnDemand = (options.owned ?? []).some((o) => o.kind === "savings-plan")
  // Planned in order, each against what the members before it already placed: a pool that cannot launch one more
  // gang (Capacity.ts) is left for another zone, type or purchase option.
  const pools = new PoolTally()
  const slots: Array<Slot> = workloads.map((workload, i) => {
    const evaluation = evaluate(workload, index, planOptions, trackOnDemand, pools)
    const placed = evaluation.plan.status === "ok" ? evaluation.plan.options[0] : undefined
    if (placed !== undefined) {
      pools.add(
        placed.instanceType,
        placed.purchaseOption === "spot" && placed.availabilityZone !== null
          ? { spotZone: placed.availabilityZone }
          : { onDemandRegion: placed.region },
        placed.instanceCount
      )
    }
    // Keep the on-demand candidate only when a savings plan may cover it: it holds estimates alive.
    return { index: i, workload, settings: evaluation.settings, bestOnDemand: trackOnDemand ? evaluation.bestOnDemand : null, plan: evaluation.plan }
  })
  const horizon = options.horizonHours ?? HOURS_PER_MONTH
  const owned = options.owned ?? []
  const uses: Array<OwnedUse> = []
  let ownedSavings = 0

  // Biggest stand-alone spend first, then by name: deterministic, and sunk capacity goes where it saves most.
  const order = slots
    .filter((slot) => slot.plan.status === "ok")
    .sort((a, b) => costOf(b.plan) - costOf(a.plan) || byString(a.workload.name, b.workload.name) || a.index - b.index)
  const served = new Set<number>()

  const reservations = owned
    .filter((o): o is OwnedReservation => o.kind === "reserved")
    .sort((a, b) => byString(a.instanceType, b.instanceType) || byString(a.region, b.region) || a.count - b.count)
  for (const reservation of reservations) {
    const capacity = reservation.count * horizon
    let remaining = capacity
    const names: Array<string> = []
    for (const slot of order) {
      if (served.has(slot.index) || slot.plan.status !== "ok" || remaining <= 0) continue
      const candidate = onReservation(slot, index, options, reservation)
      if (candidate === undefined || candidate.instances > reservation.count) continue
      const instanceHours = candidate.baseHours * candidate.instances
      if (instanceHours > remaining) continue
      const marginal = candidate.expectedCostUsd - candidate.computeCostUsd
      const standalone = costOf(slot.plan)
      if (marginal >= standalone) continue
      const option = toOption(candidate, slot.settings, { ranked: [candidate], bestCommitment: null, bestSpot: null, spotAboveTopList: false }, true)
      slot.plan = withOwned(slot.plan, {
        ...option,
        purchaseOption: "reserved",
        term: null,
        hourlyPriceUsd: 0,
        expectedCostUsd: usd(marginal),
        savingVsOnDemandUsd: option.onDemandCostUsd === null ? null : usd(option.onDemandCostUsd - marginal),
        priceIsEstimate: false,
        utilization: fraction(instanceHours / capacity),
        breakEvenUtilization: null,
        owned: true,
        reason: `uses the owned reservation of ${reservation.count} × ${reservation.instanceType} in ${reservation.region} (already paid): ` +
          `${Math.round(instanceHours)} of its ${Math.round(remaining)} free instance-hours, saves ${formatUsd(standalone - marginal)} against the stand-alone plan`
      })
      remaining -= instanceHours
      ownedSavings += standalone - marginal
      served.add(slot.index)
      names.push(slot.workload.name)
    }
    uses.push({
      kind: "reserved",
      instanceType: reservation.instanceType,
      region: reservation.region,
      capacity,
      used: hourly(capacity - remaining),
      utilization: fraction((capacity - remaining) / capacity),
      workloads: names
    })
  }

  const savingsPlans = owned.filter((o): o is OwnedSavingsPlan => o.kind === "savings-plan")
  for (const plan of savingsPlans) {
    const capacity = plan.commitmentUsdPerHour * horizon
    let remaining = capacity
    const names: Array<string> = []
    for (const slot of order) {
      if (served.has(slot.index) || slot.plan.status !== "ok" || remaining <= 0) continue
      const candidate = slot.bestOnDemand
      if (candidate === null) continue
      const discount = plan.discount ?? modelledDiscount(candidate.indexed.type.name, 1, "no-upfront", "savings-plan")
      const spend = candidate.computeCostUsd * (1 - discount)
      const covered = Math.min(spend, remaining)
      // The share of usage the commitment does not cover is billed on demand.
      const marginal = (spend > 0 ? (1 - covered / spend) * candidate.computeCostUsd : 0) + (candidate.expectedCostUsd - candidate.computeCostUsd)
      const standalone = costOf(slot.plan)
      if (marginal >= standalone) continue
      const option = toOption(candidate, slot.settings, { ranked: [candidate], bestCommitment: null, bestSpot: null, spotAboveTopList: false }, true)
      slot.plan = withOwned(slot.plan, {
        ...option,
        purchaseOption: "savings-plan",
        term: null,
        hourlyPriceUsd: hourly(candidate.hourlyUsd * (1 - discount)),
        expectedCostUsd: usd(marginal),
        savingVsOnDemandUsd: option.onDemandCostUsd === null ? null : usd(option.onDemandCostUsd - marginal),
        priceIsEstimate: plan.discount === undefined,
        utilization: fraction(covered / capacity),
        breakEvenUtilization: null,
        owned: true,
        reason: `uses the owned savings plan (already paid): covers ${formatUsd(covered)} of ${formatUsd(spend)} usage at savings-plan rates, ` +
          `saves ${formatUsd(standalone - marginal)} against the stand-alone plan`
      })
      remaining -= covered
      ownedSavings += standalone - marginal
      served.add(slot.index)
      names.push(slot.workload.name)
    }
    uses.push({
      kind: "savings-plan",
      instanceType: null,
      region: null,
      capacity: usd(capacity),
      used: usd(capacity - remaining),
      utilization: fraction(capacity > 0 ? (capacity - remaining) / capacity : 0),
      workloads: names
    })
  }

  let jobs = 0
  let services = 0
  let feasible = 0
  for (const slot of slots) {
    if (slot.plan.status !== "ok") continue
    feasible++
    if (slot.plan.costPeriod === "month") services += costOf(slot.plan)
    else jobs += costOf(slot.plan)
  }
  return {
    workloads: slots.map((slot) => slot.plan),
    summary: {
      workloads: slots.length,
      feasible,
      infeasible: slots.length - feasible,
      jobsCostUsd: usd(jobs),
      servicesCostPerMonthUsd: usd(services),
      ownedCommitmentSavingsUsd: usd(ownedSavings),
      owned: uses
    },
    catalog: catalogInfo(catalog)
  }
}
