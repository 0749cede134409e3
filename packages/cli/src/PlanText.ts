/**
 * The human form of a plan: the recommendation first, with the planner's one-line reason (why spot,
 * why this zone) and the saving against on-demand of the same instances, then the ranked options as
 * an aligned table, then where the prices came from. Pure: a plan in, lines out. `--json` prints the
 * plan itself instead.
 */
import type { InfeasiblePlan, PlacementOption, Plan } from "@frugal/planner"
import { catalogLines, gib, hours, usd, usdPerHour } from "./Format.ts"
import { renderTable } from "./Table.ts"

const isCommitment = (option: PlacementOption): boolean =>
  option.purchaseOption === "reserved" || option.purchaseOption === "savings-plan"

const gpusLabel = (option: PlacementOption): string => {
  const total = option.gpusPerInstance * option.instanceCount
  return `${Number.isInteger(total) ? total : total.toFixed(2)} × ${option.gpu}`
}

const instancesLabel = (option: PlacementOption): string => `${option.instanceCount} × ${option.instanceType}`

const whereLabel = (option: PlacementOption): string =>
  option.availabilityZone === null ? option.region : `${option.region} ${option.availabilityZone}`

const termLabel = (option: PlacementOption): string =>
  option.term === null ? option.purchaseOption : `${option.purchaseOption} ${option.term.years}y`

/** `spot`, `reserved 1y*` (the star marks a modelled price). */
const buyLabel = (option: PlacementOption): string => `${termLabel(option)}${option.priceIsEstimate ? "*" : ""}`

const costLabel = (plan: Plan | InfeasiblePlan, costUsd: number): string =>
  "costPeriod" in plan && plan.costPeriod === "month" ? `${usd(costUsd)}/month` : usd(costUsd)

const describeWorkload = (plan: Plan): string => {
  const c = plan.constraints
  const parts = [
    plan.kind,
    ...(c.deadlineHours === null ? [] : [`deadline ${hours(c.deadlineHours)}`]),
    ...(c.budgetUsd === null ? [] : [`budget ${usd(c.budgetUsd)}`]),
    c.interruptible ? "interruptible" : "not interruptible",
    ...(c.regions === null ? [] : [`regions ${c.regions.join(", ")}`])
  ]
  return `${plan.workload}: ${parts.join(", ")}`
}

const requirementLine = (plan: Plan): string => {
  const r = plan.requirements
  const sharding = r.minGpus > 1 && r.sharding !== "none" ? `, ${r.sharding}` : ""
  return `  Needs ${gib(r.memoryGiB)} of GPU memory: at least ${r.minGpus} × ${r.accelerator} (${gib(r.perGpuMemoryGiB)} per GPU${sharding}).`
}

const savingLine = (plan: Plan, option: PlacementOption): string | undefined => {
  if (option.purchaseOption === "on-demand" || option.onDemandCostUsd === null || option.savingVsOnDemandUsd === null) {
    return undefined
  }
  const saving = option.savingVsOnDemandUsd
  if (saving <= 0) {
    return `  Costs ${costLabel(plan, -saving)} more than on-demand ${instancesLabel(option)} (${costLabel(plan, option.onDemandCostUsd)}).`
  }
  const percent = Math.round((saving / option.onDemandCostUsd) * 100)
  return `  Saves ${costLabel(plan, saving)} (${percent}%) against on-demand ${instancesLabel(option)} (${costLabel(plan, option.onDemandCostUsd)}).`
}

/** A steady service that is not recommended a commitment gets told why, from the best one priced. */
const whyNotCommitment = (plan: Plan, recommended: PlacementOption): string | undefined => {
  if (plan.kind !== "inference" || isCommitment(recommended)) return undefined
  const best = plan.options.filter(isCommitment).sort((a, b) => a.expectedCostUsd - b.expectedCostUsd)[0]
  if (best === undefined) return undefined
  const breakEven = best.breakEvenUtilization === null || best.utilization === null
    ? ""
    : `: it pays off above ${Math.round(best.breakEvenUtilization * 100)}% utilisation and this workload would use ${Math.round(best.utilization * 100)}% of it`
  return `  Not a commitment: the best one, ${termLabel(best)} ${instancesLabel(best)}, comes to ${costLabel(plan, best.expectedCostUsd)}${breakEven}.`
}

/** The recommendation block: what to buy, what it costs, what it saves, and why. */
export const recommendationLines = (plan: Plan): ReadonlyArray<string> => {
  const recommended = plan.options[0]
  if (recommended === undefined) return [describeWorkload(plan), requirementLine(plan), "  No placement found."]
  const period = plan.costPeriod === "month" ? " a month" : ""
  return [
    describeWorkload(plan),
    requirementLine(plan),
    `Recommended: ${instancesLabel(recommended)} (${gpusLabel(recommended)}), ${termLabel(recommended)} in ${whereLabel(recommended)}`,
    `  Expected cost ${costLabel(plan, recommended.expectedCostUsd)} over ${hours(recommended.expectedHours)}${period} at ${usdPerHour(recommended.hourlyPriceUsd)} per instance${recommended.priceIsEstimate ? " (estimated rate)" : ""}.`,
    ...[savingLine(plan, recommended), `  Why: ${recommended.reason}`, whyNotCommitment(plan, recommended)]
      .filter((line): line is string => line !== undefined),
    ...plan.notes.map((note) => `  Note: ${note}`)
  ]
}

export const optionsTable = (plan: Plan, options: ReadonlyArray<PlacementOption>): ReadonlyArray<string> =>
  renderTable(
    [
      { header: "#", align: "right" },
      { header: "INSTANCES" },
      { header: "GPUS" },
      { header: "WHERE" },
      { header: "BUY" },
      { header: "$/H EACH", align: "right" },
      { header: plan.costPeriod === "month" ? "HOURS/MONTH" : "HOURS", align: "right" },
      { header: plan.costPeriod === "month" ? "COST/MONTH" : "EXPECTED COST", align: "right" },
      { header: "DEADLINE" },
      { header: "INTERRUPTIONS" },
      { header: "CHECKPOINT", align: "right" }
    ],
    options.map((option, index) => [
      `${index + 1}`,
      instancesLabel(option),
      gpusLabel(option),
      whereLabel(option),
      buyLabel(option),
      usdPerHour(option.hourlyPriceUsd),
      hours(option.expectedHours),
      usd(option.expectedCostUsd),
      !option.meetsDeadline ? "MISSED" : option.withinBudget ? "met" : "over budget",
      option.interruptionRisk === null ? "—" : option.interruptionRisk.label,
      option.checkpointEveryMinutes === null ? "—" : `${Math.round(option.checkpointEveryMinutes)} min`
    ])
  )

/** The whole human report of one plan, with `top` options in the table. */
export const planText = (plan: Plan, top: number): ReadonlyArray<string> => {
  const shown = plan.options.slice(0, top)
  const estimated = shown.some((option) => option.priceIsEstimate)
  return [
    ...recommendationLines(plan),
    "",
    `Top ${shown.length} of ${plan.placementsPriced.toLocaleString("en-US")} placements priced (meeting every constraint first, then by expected cost):`,
    ...optionsTable(plan, shown),
    ...(estimated ? ["* commitment rate is an estimate modelled from published AWS discount levels, not a quote"] : []),
    "",
    ...catalogLines(plan.catalog)
  ]
}

/** An infeasible workload: the binding constraint and what the best option achieves against it. */
export const infeasibleText = (plan: InfeasiblePlan): ReadonlyArray<string> => [
  `${plan.workload}: ${plan.kind}`,
  `  No feasible placement: ${plan.constraint}: ${plan.detail}`
]
