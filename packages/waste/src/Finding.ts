/**
 * A finding: money spent on something that did not need it, with the evidence and one action. Each kind is a
 * `FindingRule` (`findings/`), which carries its precedence: when two findings could claim the same instance-hours
 * or dollars, the one of lower precedence claims them first (see `SpendPools.ts` and docs/waste.md).
 */
import type { UnavailablePart } from "@frugal/core"
import type { Period } from "./CostData.ts"
import type { FindingKind } from "./findings/Rules.ts"

export type { FindingKind } from "./findings/Rules.ts"

/** One piece of evidence: what (an instance, an instance type, a usage type), when, how much. */
export interface Evidence {
  /** Instance id, instance type, reservation id or usage type. */
  readonly subject: string
  readonly instanceType: string | null
  /** ISO time or date of the first and last hour concerned; null when the evidence is the whole period. */
  readonly from: string | null
  readonly to: string | null
  /** Hours concerned (instance-hours, GPU-hours or commitment hours; `detail` says which); 0 for data transfer. */
  readonly hours: number
  /** This evidence's share of the finding's dollars. */
  readonly costUsd: number
  /** The figures behind `costUsd`, in words: rates, thresholds, windows. */
  readonly detail: string
}

/** What a rule finds; the report adds the rule's `kind`. */
export interface FindingBody {
  readonly title: string
  /** Dollars wasted in the period (never more than the spend it was claimed from). */
  readonly costUsd: number
  /** `costUsd` projected to a month of 730 hours. */
  readonly monthlySavingsUsd: number
  readonly evidence: ReadonlyArray<Evidence>
  /** One concrete thing to do. */
  readonly action: string
}

export interface Finding extends FindingBody {
  readonly kind: FindingKind
}

export interface DailySpend {
  readonly date: string
  readonly purchaseOption: string
  readonly costUsd: number
}

/** Everything a renderer needs; `findings` sorted by dollars, largest first. */
export interface WasteReport {
  readonly period: Period
  readonly totalCostUsd: number
  readonly wasteUsd: number
  readonly monthlySavingsUsd: number
  readonly findings: ReadonlyArray<Finding>
  readonly dailySpend: ReadonlyArray<DailySpend>
  /** Spend per instance type over the period, largest first. */
  readonly instanceTypeSpend: ReadonlyArray<{ readonly instanceType: string; readonly costUsd: number }>
  /** Credits and refunds in the period, in dollars given back: shown apart, never subtracted from spend. */
  readonly creditsUsd: number
  /** Sources or calls that failed: their findings are missing, so the report is partial. Empty when complete. */
  readonly unavailable: ReadonlyArray<UnavailablePart>
  /** Where prices and data came from (catalog snapshot, files, APIs). */
  readonly notes: ReadonlyArray<string>
}

/** The JSON contract of `frugal report --format json`. */
export const reportJson = (report: WasteReport) => ({
  period: report.period,
  totalCostUsd: round2(report.totalCostUsd),
  creditsAndRefundsUsd: round2(report.creditsUsd),
  partial: report.unavailable.length > 0,
  unavailable: report.unavailable,
  findings: report.findings.map((finding) => ({
    kind: finding.kind,
    title: finding.title,
    costUsd: round2(finding.costUsd),
    monthlySavingsUsd: round2(finding.monthlySavingsUsd),
    evidence: finding.evidence.map((item) => ({ ...item, costUsd: round2(item.costUsd), hours: round2(item.hours) })),
    action: finding.action
  }))
})

export const round2 = (value: number): number => Math.round(value * 100) / 100
