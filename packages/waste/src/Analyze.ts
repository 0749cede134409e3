/**
 * From data to a report: runs every finding rule in precedence order against one set of spend pools,
 * so the sum of finding dollars can never exceed the period's spend (see `SpendPools.ts`).
 * Pure: data in, data out.
 */
import type { UnavailablePart } from "@frugal/core"
import type { Catalog } from "@frugal/pricing"
import { type CostData, creditsUsd, type GpuSeries, type LostWork, periodHours, totalSpendUsd, transferSpendUsd } from "./CostData.ts"
import type { DailySpend, Finding, WasteReport } from "./Finding.ts"
import type { FindingContext } from "./findings/FindingContext.ts"
import type { FindingRule } from "./findings/FindingRule.ts"
import { FINDING_RULES, type FindingKind } from "./findings/Rules.ts"
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
  /** The rules to run (default: every rule, `FINDING_RULES`); each runs in its own precedence order. */
  readonly rules?: ReadonlyArray<FindingRule<FindingKind>> | undefined
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
  // Each rule claims spend in its precedence order: the earlier rule wins an hour.
  const rules = [...(input.rules ?? FINDING_RULES)].sort((a, b) => a.precedence - b.precedence)
  const findings = rules.flatMap((rule): Array<Finding> => {
    const found = rule.find(context)
    return found === undefined ? [] : [{ kind: rule.kind, ...found }]
  }).sort((a, b) => b.costUsd - a.costUsd)

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
