/**
 * What the waste findings read: spend and usage for one period, normalised from Cost Explorer
 * (live or the JSON `aws ce ...` prints), GPU utilisation from CloudWatch, and Frugal's ledger.
 * Plain data; every source produces exactly this, so findings never know where data came from.
 */
import type { PurchaseOption } from "@frugal/core"

/** Half-open UTC interval `[start, end)` as ISO dates (`2026-11-01`), the way Cost Explorer writes it. */
export interface Period {
  readonly start: string
  readonly end: string
}

/** One day's spend on one instance type bought one way (`GetCostAndUsage` grouped by INSTANCE_TYPE, PURCHASE_TYPE). */
export interface ComputeSpend {
  readonly date: string
  readonly instanceType: string
  readonly purchaseOption: PurchaseOption
  readonly costUsd: number
  /** Instance-hours (`UsageQuantity` of EC2 instance usage is in hours). */
  readonly usageHours: number
}

/** One day's spend on one instance type in one availability zone (grouped by AZ, INSTANCE_TYPE). */
export interface ZoneSpend {
  readonly date: string
  /** Zone name as Cost Explorer reports it (`us-east-1a`). */
  readonly availabilityZone: string
  readonly instanceType: string
  readonly costUsd: number
  readonly usageHours: number
}

/** One day's spend on one usage type (grouped by USAGE_TYPE); used for inter-region data transfer. */
export interface UsageTypeSpend {
  readonly date: string
  readonly usageType: string
  readonly costUsd: number
  /** For transfer usage types, gigabytes. */
  readonly usageQuantity: number
}

/**
 * Money AWS gave back in the period: a credit (promotional, support) or a refund (Cost Explorer RECORD_TYPE
 * `Credit` / `Refund`). Kept apart from spend, so findings are measured against what usage cost and can never
 * exceed it however large the credits.
 */
export interface CostAdjustment {
  readonly date: string
  readonly recordType: "credit" | "refund"
  /** As AWS reports it: 0 or less. */
  readonly amountUsd: number
}

/** A reservation's use over the period (`GetReservationUtilization`). */
export interface ReservationUse {
  /** Subscription id or `total` when the response was not grouped. */
  readonly id: string
  readonly instanceType: string | null
  readonly purchasedHours: number
  readonly unusedHours: number
  /** Upfront (amortised) plus recurring fee for the period. */
  readonly amortizedFeeUsd: number
}

/** Savings plans' use over the period (`GetSavingsPlansUtilization`). */
export interface SavingsPlanUse {
  readonly start: string
  readonly end: string
  readonly totalCommitmentUsd: number
  readonly unusedCommitmentUsd: number
}

export interface CostData {
  readonly period: Period
  readonly compute: ReadonlyArray<ComputeSpend>
  readonly zones: ReadonlyArray<ZoneSpend>
  readonly usageTypes: ReadonlyArray<UsageTypeSpend>
  readonly reservations: ReadonlyArray<ReservationUse>
  readonly savingsPlans: ReadonlyArray<SavingsPlanUse>
  /** Credits and refunds, never counted as spend. */
  readonly adjustments: ReadonlyArray<CostAdjustment>
}

/** One GPU's hourly samples (CloudWatch agent `nvidia_smi_*`, statistic Average, period 1 h). */
export interface GpuSeries {
  readonly instanceId: string
  readonly instanceType: string
  readonly gpuIndex: number
  /** Sample start times (ISO) with utilisation in percent and memory used in MiB (null when missing). */
  readonly samples: ReadonlyArray<GpuSample>
}

export interface GpuSample {
  readonly time: string
  readonly utilizationPct: number | null
  readonly memoryUsedMiB: number | null
}

/** An attempt of a Frugal job that was interrupted, from the ledger. */
export interface LostWork {
  readonly jobId: string
  readonly attempt: number
  readonly instanceType: string
  readonly purchaseOption: PurchaseOption
  readonly interruptedAt: string
  /** Hours of compute since the last checkpoint, thrown away by the interruption. */
  readonly lostHours: number
  /** What those hours cost (instances × hourly price × lostHours). */
  readonly lostCostUsd: number
}

export const emptyCostData = (period: Period): CostData => ({
  period,
  compute: [],
  zones: [],
  usageTypes: [],
  reservations: [],
  savingsPlans: [],
  adjustments: []
})

/** Hours in a period (end exclusive). */
export const periodHours = (period: Period): number =>
  (Date.parse(`${period.end}T00:00:00Z`) - Date.parse(`${period.start}T00:00:00Z`)) / 3_600_000

/** Data transfer usage types end in `-Bytes` (`USE1-USW2-AWS-Out-Bytes`, `USE1-DataTransfer-Out-Bytes`). */
export const isTransferUsageType = (usageType: string): boolean => usageType.endsWith("-Bytes")

/**
 * Total spend of the period: instance spend plus data transfer. Only transfer usage types are added
 * from the USAGE_TYPE breakdown, so a breakdown that also lists instance usage is not counted twice.
 */
export const totalSpendUsd = (data: CostData): number =>
  sum(data.compute.map((row) => row.costUsd)) + transferSpendUsd(data)

/** Credits and refunds of the period, as a positive number of dollars given back. */
export const creditsUsd = (data: CostData): number => -sum(data.adjustments.map((row) => row.amountUsd))

export const transferSpendUsd = (data: CostData): number =>
  sum(data.usageTypes.filter((row) => isTransferUsageType(row.usageType)).map((row) => row.costUsd))

/** Every date (`YYYY-MM-DD`) in the period, end exclusive. */
export const datesOf = (period: Period): ReadonlyArray<string> => {
  const dates: Array<string> = []
  const end = Date.parse(`${period.end}T00:00:00Z`)
  for (let t = Date.parse(`${period.start}T00:00:00Z`); t < end; t += 86_400_000) {
    dates.push(new Date(t).toISOString().slice(0, 10))
  }
  return dates
}

export const sum = (values: ReadonlyArray<number>): number => values.reduce((total, value) => total + value, 0)
