/**
 * The plan as users and `plan --json` see it (ARCHITECTURE.md): the workload, what it requires, ranked options and
 * the catalog's source and date. Numbers are rounded here, once, by fixed rules, and every object is built with a
 * fixed key order, so the same input gives byte-identical JSON:
 *   USD → cents; hourly prices → 1/10,000 USD (6 decimals where the catalog quotes them); hours → 0.01 h;
 *   minutes → 0.1 min; GiB → 0.01 GiB; fractions (utilisation, break-even) → 0.0001; rates → 6 significant digits.
 * Ranking uses the unrounded figures.
 */
import type { PurchaseOption, Workload } from "@frugal/core"

export interface InterruptionRisk {
  /** Spot Instance Advisor bucket 0 (<5%) … 4 (>20%) of this type in this region; null when the advisor has none. */
  readonly bucket: number | null
  /**
   * The advisor's label (`10-15%`, monthly share of instances interrupted), or `unknown (assumed >20%)` when the
   * advisor has no entry and the worst bucket's rate is assumed.
   */
  readonly label: string
  /** Expected interruptions per hour of the whole placement (all instances). */
  readonly interruptionsPerHour: number
  /** Expected interruptions over `expectedHours`. */
  readonly expectedInterruptions: number
}

/** Whether the option's pool can launch it, and what waiting for capacity or falling back costs. */
export interface CapacityRisk {
  /** Chance that the pool launches the whole placement (all its instances together) at a given moment. */
  readonly obtainProbability: number
  /**
   * Where the chance comes from: the live catalog's spot placement score, a prior by instance size, interruption
   * bucket and count, a spot price at AWS's floor with nothing known about the pool (`suspicious-price`), or the
   * infrastructure profile's statement of a cluster's capacity (`stated`: there, up to its node count).
   */
  readonly basis: "placement-score" | "prior" | "suspicious-price" | "stated"
  /** `likely`, `uncertain`, `unlikely`, `suspicious price` or `stated`, with the percentage. */
  readonly label: string
  /** Expected hours waiting for capacity (not billed), included in `expectedHours`. */
  readonly expectedWaitHours: number
  /** Spot: expected billed hours per instance on the on-demand fallback that keeps the deadline; null otherwise. */
  readonly onDemandFallbackHours: number | null
  /** Spot: the fallback's hourly on-demand price per instance; null otherwise. */
  readonly onDemandFallbackHourlyUsd: number | null
}

export interface OptionTerm {
  readonly years: 1 | 3
  readonly paymentOption: "no-upfront" | "partial-upfront" | "all-upfront"
  readonly offeringClass: "standard" | "convertible" | "compute-savings-plan" | "instance-savings-plan"
  /** Upfront payment for all instances of the placement, USD. */
  readonly upfrontUsd: number
}

export interface PlacementOption {
  readonly instanceType: string
  readonly gpu: string
  readonly gpusPerInstance: number
  readonly instanceCount: number
  readonly region: string
  /** AZ ID for spot; null when the price holds for the whole region. */
  readonly availabilityZone: string | null
  readonly purchaseOption: PurchaseOption
  /** Commitment term; null for spot and on-demand. */
  readonly term: OptionTerm | null
  /** USD per instance-hour (effective rate for commitments). */
  readonly hourlyPriceUsd: number
  /** Hours of compute without interruptions (a service: hours per month). */
  readonly baseHours: number
  /** Wall-clock hours expected, with checkpoint writes, redone work and restarts for spot. */
  readonly expectedHours: number
  /** Expected cost of the job (a service: per month), transfer included for jobs. */
  readonly expectedCostUsd: number
  /** Inter-region transfer of the workload's data into this region, once. */
  readonly transferCostUsd: number
  readonly meetsDeadline: boolean
  readonly withinBudget: boolean
  readonly interruptionRisk: InterruptionRisk | null
  /** Young/Daly checkpoint interval for spot jobs; null where no interruption is modelled. */
  readonly checkpointEveryMinutes: number | null
  /** The same instance type and count on demand (in this region where offered). */
  readonly onDemandCostUsd: number | null
  readonly savingVsOnDemandUsd: number | null
  /** True when any price in this option is modelled rather than quoted (commitment rates of the embedded catalog). */
  readonly priceIsEstimate: boolean
  /** Commitments: share of the paid hours the workload uses. */
  readonly utilization: number | null
  /** Commitments: utilisation above which the commitment beats on-demand. */
  readonly breakEvenUtilization: number | null
  /** Fleets: served by a commitment the user already owns (its cost is sunk). */
  readonly owned: boolean
  readonly capacityRisk: CapacityRisk
  /**
   * Hours an attempt spends before it trains (capacity request, boot, image pull, data download, model load), in
   * `expectedHours` and the cost; null for a service.
   */
  readonly launchHours: number | null
  readonly reason: string
  /** The account's EC2 vCPU quota this option counts against, where known (`plan --infra` with AWS); see QuotaFit. */
  readonly quota?: OptionQuota
}

export interface OptionQuota {
  /** Service Quotas code (`L-417A185B`) and name. */
  readonly code: string
  readonly name: string
  readonly limitVcpus: number
  readonly neededVcpus: number
  /** False: the account cannot launch this option; it is ranked after every option that fits. */
  readonly fits: boolean
}

export interface AcceleratorRequirement {
  readonly minGpus: number
  /** Memory the workload needs across `minGpus` GPUs, GiB. */
  readonly memoryGiB: number
  readonly perGpuMemoryGiB: number
  /** Hours on `minGpus` GPUs (a service: per month). */
  readonly hours: number
}

export interface Requirements {
  /** The recommended accelerator and what the workload needs of it. */
  readonly accelerator: string
  readonly memoryGiB: number
  readonly perGpuMemoryGiB: number
  readonly minGpus: number
  readonly sharding: "none" | "zero1" | "zero2" | "fsdp"
  /** Every accelerator that can hold the workload, by canonical name (sorted). */
  readonly byAccelerator: { readonly [accelerator: string]: AcceleratorRequirement }
}

export interface PlanConstraints {
  readonly deadlineHours: number | null
  readonly budgetUsd: number | null
  readonly regions: ReadonlyArray<string> | null
  readonly interruptible: boolean
  readonly purchaseOptions: ReadonlyArray<PurchaseOption>
}

export interface PlanCatalog {
  readonly source: "embedded" | "aws" | "cache" | "file"
  readonly asOf: string
  readonly description: string
  readonly notes: ReadonlyArray<string>
}

export interface Plan {
  readonly workload: string
  readonly kind: Workload["kind"]
  readonly status: "ok"
  /** `job`: costs and hours are for the whole job; `month`: a service, per month. */
  readonly costPeriod: "job" | "month"
  readonly requirements: Requirements
  readonly constraints: PlanConstraints
  /** Ranked: options meeting every constraint first, cheapest expected cost first; `options[0]` is the recommendation. */
  readonly options: ReadonlyArray<PlacementOption>
  /** Placements priced to reach these options. */
  readonly placementsPriced: number
  readonly catalog: PlanCatalog
  readonly notes: ReadonlyArray<string>
}

/** A fleet member with no feasible placement: the binding constraint and why. */
export interface InfeasiblePlan {
  readonly workload: string
  readonly kind: Workload["kind"]
  readonly status: "infeasible"
  readonly constraint: string
  readonly detail: string
  readonly options: ReadonlyArray<PlacementOption>
}

export const roundTo = (value: number, decimals: number): number => {
  if (!Number.isFinite(value)) return value
  const factor = 10 ** decimals
  return Math.sign(value) * Math.round(Math.abs(value) * factor + Number.EPSILON * factor) / factor
}

export const usd = (value: number): number => roundTo(value, 2)
export const hourly = (value: number): number => roundTo(value, 6)
export const hoursOf = (value: number): number => roundTo(value, 2)
export const gib = (value: number): number => roundTo(value, 2)
export const fraction = (value: number): number => roundTo(value, 4)
export const significant = (value: number): number => (value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(6)))
