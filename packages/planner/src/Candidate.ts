/**
 * One priced placement while `plan` enumerates (the planner's internal form; `PlanOutput` turns the survivors into
 * the options users see), the settings it is priced under, and the order options are ranked in.
 */
import type { PlacementEstimate, PurchaseOption, Workload } from "@frugal/core"
import type { SpotRisk } from "@frugal/pricing"
import type { CommitmentOffer, IndexedType } from "./CatalogIndex.ts"
import type { CommitmentCharge, CostAssumptions, SpotRun } from "./PlacementCost.ts"
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
  /** On-demand cost of the same type and count: in the option's region where offered, else the cheapest region. */
  onDemandCostUsd: number | null
  onDemandRegion: string | null
}

export const PURCHASE_ORDER: ReadonlyArray<PurchaseOption> = ["spot", "on-demand", "reserved", "savings-plan"]

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Meets every constraint first, then cheapest expected cost, then fastest, then a stable order of names. */
export const compareCandidates = (a: Candidate, b: Candidate): number => {
  const fa = a.meetsDeadline && a.withinBudget
  const fb = b.meetsDeadline && b.withinBudget
  if (fa !== fb) return fa ? -1 : 1
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
  readonly computeCostUsd: number
  readonly transferCostUsd: number
  readonly spot: SpotRun | null
  readonly risk: SpotRisk | null
  readonly charge: CommitmentCharge | null
  readonly priceIsEstimate: boolean
}

export const makeCandidate = (settings: Settings, parts: CandidateParts): Candidate => {
  const baseHours = parts.count.hours
  const expectedHours = parts.spot === null ? baseHours : parts.spot.expectedHours
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
    onDemandCostUsd: null,
    onDemandRegion: null
  }
}
