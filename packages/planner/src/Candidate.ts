/**
 * One priced placement while `plan` enumerates (the planner's internal form; `PlanOutput` turns the survivors into
 * the options users see), the settings it is priced under, and the order options are ranked in.
 */
import { type PlacementEstimate, PURCHASE_OPTIONS, type PurchaseOption, type Workload } from "@frugal/core"
import type { SpotRisk } from "@frugal/pricing"
import type { CapacityBasis, PoolUsage } from "./Capacity.ts"
import type { CommitmentOffer, IndexedType } from "./CatalogIndex.ts"
import type { CommitmentCharge, CostAssumptions, LaunchTime, SpotRun } from "./PlacementCost.ts"
import type { AcceleratorNeed } from "./Requirements.ts"

export interface Candidate {
  readonly indexed: IndexedType
  readonly need: AcceleratorNeed
  readonly instances: number
  /** Accelerators in use: instances × per instance (fractional GPUs: the fraction). */
  readonly gpus: number
  readonly estimate: PlacementEstimate
  readonly region: string
  readonly zone: string | null
  readonly purchaseOption: PurchaseOption
  readonly commitment: CommitmentOffer | null
  readonly hourlyUsd: number
  readonly baseHours: number
  readonly expectedHours: number
  readonly computeCostUsd: number
  readonly transferCostUsd: number
  readonly expectedCostUsd: number
  readonly meetsDeadline: boolean
  readonly withinBudget: boolean
  readonly spot: SpotRun | null
  readonly risk: SpotRisk | null
  readonly charge: CommitmentCharge | null
  readonly priceIsEstimate: boolean
  /** Whether the pool can launch the placement, and what waiting for it or falling back costs. */
  readonly capacity: CandidateCapacity
  /** What each attempt spends before it trains; null for a service (replicas start outside the plan). */
  readonly launch: LaunchTime | null
  /** Spot saving less than `MIN_SPOT_SAVING` against on-demand of the same instances in its region. */
  readonly thinSaving: boolean
  /** On-demand cost of the same type and count: in the option's region where offered, else the cheapest region. */
  onDemandCostUsd: number | null
  onDemandRegion: string | null
}

export interface CandidateCapacity {
  /** Chance that the pool launches the whole placement at a given moment. */
  readonly availability: number
  readonly basis: CapacityBasis
  /** Expected hours waiting for capacity (not billed). */
  readonly waitHours: number
  /** Spot: billed hours per instance on the on-demand fallback, and its hourly price; null for other options. */
  readonly onDemandFallbackHours: number | null
  readonly onDemandFallbackUsd: number | null
}

export const PURCHASE_ORDER: ReadonlyArray<PurchaseOption> = PURCHASE_OPTIONS

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Spot that saves less than this share against on-demand of the same instances in the same region is not worth its
 * waits, interruptions and fallback: it ranks after every option that is (a gang spot can rarely launch, whose
 * expected cost is nearly all on-demand fallback, would otherwise be recommended as "spot").
 */
export const MIN_SPOT_SAVING = 0.1

/** 0: meets every constraint; 1: meets them, but is spot saving less than `MIN_SPOT_SAVING`; 2: misses one. */
export const rankTier = (c: Candidate): number => (!(c.meetsDeadline && c.withinBudget) ? 2 : c.thinSaving ? 1 : 0)

/**
 * Meets every constraint first (spot with a thin saving after the rest), then cheapest expected cost, then fastest,
 * then a stable order of names.
 */
export const compareCandidates = (a: Candidate, b: Candidate): number => {
  const ta = rankTier(a)
  const tb = rankTier(b)
  if (ta !== tb) return ta - tb
  return a.expectedCostUsd - b.expectedCostUsd ||
    a.expectedHours - b.expectedHours ||
    byString(a.indexed.type.name, b.indexed.type.name) ||
    a.instances - b.instances ||
    byString(a.region, b.region) ||
    byString(a.zone ?? "", b.zone ?? "") ||
    PURCHASE_ORDER.indexOf(a.purchaseOption) - PURCHASE_ORDER.indexOf(b.purchaseOption) ||
    (a.commitment?.variant ?? -1) - (b.commitment?.variant ?? -1)
}

export interface Settings {
  readonly workload: Workload
  readonly regions: ReadonlySet<string> | null
  /** Restricts the instance types priced (fleets: an owned reservation's type); null for all. */
  readonly instanceTypes: ReadonlySet<string> | null
  /** Keep the best on-demand placement exact even when it cannot make the top list (fleets with savings plans). */
  readonly trackOnDemand: boolean
  readonly requirementsForAllAccelerators: boolean
  readonly purchase: ReadonlySet<PurchaseOption>
  readonly interruptible: boolean
  readonly deadlineHours: number | null
  readonly budgetUsd: number | null
  readonly perMonth: boolean
  readonly assumptions: CostAssumptions
  readonly exposureHours: number
  /** Fleets: instances already placed per pool, so that a pool is not filled beyond what it can hold. */
  readonly poolUsage: PoolUsage | null
}

/** A number of instances of one type, with the estimate for their GPUs. */
export interface Count {
  readonly instances: number
  readonly gpus: number
  readonly estimate: PlacementEstimate
  /** Hours of the placement: the estimate's, stretched for a fractional GPU. */
  readonly hours: number
}

/** Whether `candidate` ranks before `best` (or there is no best yet). */
export const better = (candidate: Candidate, best: Candidate | null): boolean => best === null || compareCandidates(candidate, best) < 0

/** Meets the deadline and the budget. */
export const isFeasible = (candidate: Candidate): boolean => candidate.meetsDeadline && candidate.withinBudget

/** What one priced placement is made of; `makeCandidate` derives the rest (hours, cost, constraints). */
export interface CandidateParts {
  readonly indexed: IndexedType
  readonly need: AcceleratorNeed
  readonly count: Count
  readonly region: string
  readonly zone: string | null
  readonly purchaseOption: PurchaseOption
  readonly commitment: CommitmentOffer | null
  readonly hourlyUsd: number
  /** Wall-clock hours: launches, waits and (spot) interruptions and fallback included. */
  readonly expectedHours: number
  readonly computeCostUsd: number
  readonly transferCostUsd: number
  readonly spot: SpotRun | null
  readonly risk: SpotRisk | null
  readonly charge: CommitmentCharge | null
  readonly priceIsEstimate: boolean
  readonly capacity: CandidateCapacity
  readonly launch: LaunchTime | null
  /** Spot only: what the same instances cost on demand in the region, for `thinSaving`; null when not offered. */
  readonly onDemandReferenceUsd?: number | null | undefined
}

export const makeCandidate = (settings: Settings, parts: CandidateParts): Candidate => {
  const baseHours = parts.count.hours
  const expectedHours = parts.expectedHours
  // A service's monthly figure leaves the one-time transfer out (it is reported on its own).
  const expectedCostUsd = parts.computeCostUsd + (settings.perMonth ? 0 : parts.transferCostUsd)
  return {
    indexed: parts.indexed,
    need: parts.need,
    instances: parts.count.instances,
    gpus: parts.count.gpus,
    estimate: parts.count.estimate,
    region: parts.region,
    zone: parts.zone,
    purchaseOption: parts.purchaseOption,
    commitment: parts.commitment,
    hourlyUsd: parts.hourlyUsd,
    baseHours,
    expectedHours,
    computeCostUsd: parts.computeCostUsd,
    transferCostUsd: parts.transferCostUsd,
    expectedCostUsd,
    meetsDeadline: settings.perMonth || settings.deadlineHours === null || expectedHours <= settings.deadlineHours,
    withinBudget: settings.budgetUsd === null || expectedCostUsd <= settings.budgetUsd,
    spot: parts.spot,
    risk: parts.risk,
    charge: parts.charge,
    priceIsEstimate: parts.priceIsEstimate,
    capacity: parts.capacity,
    launch: parts.launch,
    thinSaving: parts.purchaseOption === "spot" && parts.onDemandReferenceUsd !== undefined && parts.onDemandReferenceUsd !== null &&
      parts.computeCostUsd > (1 - MIN_SPOT_SAVING) * parts.onDemandReferenceUsd,
    onDemandCostUsd: null,
    onDemandRegion: null
  }
}
