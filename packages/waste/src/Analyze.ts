/**
 * From data to a report: runs every finding in precedence order against one set of spend pools,
 * so the sum of finding dollars can never exceed the period's spend (see `SpendPools.ts`).
 * Pure: data in, data out.
 */
import type { UnavailablePart } from "@frugal/core"
import type { Catalog } from "@frugal/pricing"
import { type CostData, creditsUsd, type GpuSeries, type LostWork, periodHours, totalSpendUsd, transferSpendUsd } from "./CostData.ts"
import type { DailySpend, Finding, WasteReport } from "./Finding.ts"
import { unusedCommitments, commitmentOpportunities } from "./findings/Commitments.ts"
import type { FindingContext } from "./findings/FindingContext.ts"
import { idleGpus, instancesOf, oversizedGpus } from "./findings/GpuFindings.ts"
import { crossRegionTransfer, lostWork } from "./findings/LostWorkAndTransfer.ts"
import { spotEligible } from "./findings/SpotEligible.ts"
import { SpendPools } from "./SpendPools.ts"
import { defaultThresholds, type Thresholds } from "./Thresholds.ts"

export interface WasteInput {
  readonly costs: CostData
  readonly gpus?: ReadonlyArray<GpuSeries> | undefined
  readonly lostWork?: ReadonlyArray<LostWork> | undefined
  readonly catalog: Catalog
  readonly thresholds?: Partial<Thresholds> | undefined
  readonly notes?: ReadonlyArray<string> | undefined
  /** Sources that failed; the report names them (a partial report). */
  readonly unavailable?: ReadonlyArray<UnavailablePart> | undefined
}

export const analyzeWaste = (input: WasteInput): WasteReport => {
  const costs = input.costs
  const context: FindingContext = {
    costs,
    gpus: input.gpus ?? [],
    lostWork: input.lostWork ?? [],
    catalog: input.catalog,
    thresholds: { ...defaultThresholds, ...input.thresholds },
    pools: new SpendPools(costs.compute, transferSpendUsd(costs)),
    periodHours: periodHours(costs.period)
  }
  const instances = instancesOf(context)
  // Precedence: the order of FINDING_KINDS. Paid-for-nothing first (unused commitments, idle GPUs),
  // then right-sizing, lost work, and last the cheaper ways to buy the hours that remain.
  const findings = [
    unusedCommitments(context),
    idleGpus(context, instances),
    oversizedGpus(context, instances),
    lostWork(context),
    commitmentOpportunities(context),
    spotEligible(context),
    crossRegionTransfer(context)
  ].filter((finding): finding is Finding => finding !== undefined)
    .sort((a, b) => b.costUsd - a.costUsd)

  const daily = new Map<string, number>()
  for (const row of costs.compute) {
    const key = `${row.date}|${row.purchaseOption}`
    daily.set(key, (daily.get(key) ?? 0) + row.costUsd)
  }
  const dailySpend: Array<DailySpend> = [...daily.entries()].map(([key, costUsd]) => {
    const [date = "", purchaseOption = ""] = key.split("|")
    return { date, purchaseOption, costUsd }
  }).sort((a, b) => a.date.localeCompare(b.date) || a.purchaseOption.localeCompare(b.purchaseOption))
  const byType = new Map<string, number>()
  for (const row of costs.compute) byType.set(row.instanceType, (byType.get(row.instanceType) ?? 0) + row.costUsd)

  const wasteUsd = findings.reduce((total, finding) => total + finding.costUsd, 0)
  return {
    period: costs.period,
    totalCostUsd: totalSpendUsd(costs),
    wasteUsd,
    monthlySavingsUsd: findings.reduce((total, finding) => total + finding.monthlySavingsUsd, 0),
    findings,
    dailySpend,
    instanceTypeSpend: [...byType.entries()].map(([instanceType, costUsd]) => ({ instanceType, costUsd }))
      .sort((a, b) => b.costUsd - a.costUsd),
    creditsUsd: creditsUsd(costs),
    unavailable: input.unavailable ?? [],
    notes: [
      `Prices for alternatives: ${input.catalog.source.description} (${input.catalog.source.asOf}).`,
      ...(input.notes ?? [])
    ]
  }
}
