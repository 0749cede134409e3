/**
 * The human form of a plan: the recommendation first, with the planner's one-line reason (why spot,
 * why this zone) and the saving against on-demand of the same instances, then the ranked options as
 * an aligned table, then where the prices came from. Pure: a plan in, lines out. `--json` prints the
 * plan itself instead.
 */
import { formatUsd, formatUsdPerHour } from "@frugal/core"
import type { InfeasiblePlan, PlacementOption, Plan } from "@frugal/planner"
import { catalogLines, gib, hours, percent } from "./Format.ts"
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

/** `$1,234 per month` for a service, `$1,234 in total` for a job: the two never read alike. */
const costLabel = (plan: Plan | InfeasiblePlan, costUsd: number): string =>
  "costPeriod" in plan && plan.costPeriod === "month" ? `${formatUsd(costUsd, "glance")} per month` : `${formatUsd(costUsd, "glance")} in total`

const paymentWords: Readonly<Record<string, string>> = {
  "all-upfront": "all upfront",
  "partial-upfront": "partial upfront",
  "no-upfront": "no upfront"
}

/**
 * A commitment's term and what it asks for at purchase: `1-yr standard reserved, all upfront: $872,548 paid up
 * front for 24 instances`. The option's cost already spreads that payment over the hours the workload uses.
 */
const termLine = (plan: Plan, option: PlacementOption): string | undefined => {
  const term = option.term
  if (term === null) return undefined
  const kind = option.purchaseOption === "reserved" ? `${term.offeringClass} reserved instance` : term.offeringClass.replaceAll("-", " ")
  const instances = option.instanceCount === 1 ? "1 instance" : `${option.instanceCount} instances`
  // The effective rate is the upfront payment spread over the term's hours plus the recurring fee.
  const recurring = Math.max(0, option.hourlyPriceUsd - term.upfrontUsd / (option.instanceCount * term.years * 8760))
  const upfront = term.upfrontUsd <= 0
    ? `nothing up front, ${formatUsdPerHour(option.hourlyPriceUsd, "glance")} each for every hour of the term`
    : recurring < 0.0005
    ? `${formatUsd(term.upfrontUsd, "glance")} paid up front for ${instances}, nothing more per hour`
    : `${formatUsd(term.upfrontUsd, "glance")} paid up front for ${instances}, then ${formatUsdPerHour(recurring, "glance")} each for every hour of the term`
  const spread = plan.costPeriod === "month"
    ? "the cost per month above is the term's cost spread over its months"
    : "the total above charges every hour of the term, used or not"
  return `  Term: ${term.years}-yr ${kind}, ${paymentWords[term.paymentOption] ?? term.paymentOption}: ${upfront}; ${spread}.`
}

/** A spot option's capacity and fallback, and each launch's time, in words. */
const capacityLine = (option: PlacementOption): string | undefined => {
  const risk = option.capacityRisk
  const launch = option.launchHours === null || option.launchHours < 0.005
    ? ""
    : ` Each launch takes ${hours(option.launchHours)} (capacity request, boot, image pull, data download, model load), included above.`
  if (option.purchaseOption !== "spot") return launch === "" ? undefined : ` ${launch.trim()}`.replace(/^ /, "  ")
  const basis = risk.basis === "stated"
    ? "the cluster's capacity as the profile states it"
    : risk.basis === "placement-score"
    ? "spot placement score"
    : risk.basis === "suspicious-price"
    ? "price at AWS's floor, not trusted"
    : "prior by size, bucket and count"
  const wait = risk.expectedWaitHours >= 0.05 ? `, ~${hours(risk.expectedWaitHours)} waiting for capacity` : ""
  const fallback = risk.onDemandFallbackHours !== null && risk.onDemandFallbackHours >= 0.05 && risk.onDemandFallbackHourlyUsd !== null
    ? `, ${hours(risk.onDemandFallbackHours)} on on-demand at ${formatUsdPerHour(risk.onDemandFallbackHourlyUsd, "glance")} to keep the deadline`
    : ""
  return `  Capacity: ${percent(risk.obtainProbability)} chance the pool launches it (${basis})${wait}${fallback}.${launch}`
}

const describeWorkload = (plan: Plan): string => {
  const c = plan.constraints
  const parts = [
    plan.kind,
    ...(c.deadlineHours === null ? [] : [`deadline ${hours(c.deadlineHours)}`]),
    ...(c.budgetUsd === null ? [] : [`budget ${formatUsd(c.budgetUsd, "glance")}`]),
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
  // A difference reads "a month" for a service and stays bare for a job; the on-demand figure says which.
  const delta = (value: number) => (plan.costPeriod === "month" ? `${formatUsd(value, "glance")} a month` : formatUsd(value, "glance"))
  if (saving <= 0) {
    return `  Costs ${delta(-saving)} more than on-demand ${instancesLabel(option)} (${costLabel(plan, option.onDemandCostUsd)}).`
  }
  const percent = Math.round((saving / option.onDemandCostUsd) * 100)
  return `  Saves ${delta(saving)} (${percent}%) against on-demand ${instancesLabel(option)} (${costLabel(plan, option.onDemandCostUsd)}).`
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
    `  Expected cost ${costLabel(plan, recommended.expectedCostUsd)} over ${hours(recommended.expectedHours)}${period} at ${formatUsdPerHour(recommended.hourlyPriceUsd, "glance")} per instance${recommended.priceIsEstimate ? " (estimated rate)" : ""}.`,
    ...[
      termLine(plan, recommended),
      capacityLine(recommended),
      savingLine(plan, recommended),
      `  Why: ${recommended.reason}`,
      whyNotCommitment(plan, recommended)
    ].filter((line): line is string => line !== undefined),
    ...plan.notes.map((note) => `  Note: ${note}`)
  ]
}

/** `92%`, `40% prior`, `20% floor?`: the chance the pool launches the option, and where it comes from. */
const capacityCell = (option: PlacementOption): string => {
  const chance = percent(option.capacityRisk.obtainProbability)
  switch (option.capacityRisk.basis) {
    case "stated":
      return `${chance} stated`
    case "placement-score":
      return `${chance} score`
    case "suspicious-price":
      return `${chance} floor?`
    case "prior":
      return `${chance} prior`
  }
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
      { header: plan.costPeriod === "month" ? "COST PER MONTH" : "TOTAL COST", align: "right" },
      { header: "UPFRONT", align: "right" },
      { header: "DEADLINE" },
      { header: "CAPACITY" },
      { header: "INTERRUPTIONS" },
      { header: "CHECKPOINT", align: "right" }
    ],
    options.map((option, index) => [
      `${index + 1}`,
      instancesLabel(option),
      gpusLabel(option),
      whereLabel(option),
      buyLabel(option),
      formatUsdPerHour(option.hourlyPriceUsd, "glance"),
      hours(option.expectedHours),
      formatUsd(option.expectedCostUsd, "glance"),
      option.term === null ? "—" : option.term.upfrontUsd > 0 ? formatUsd(option.term.upfrontUsd, "glance") : "$0",
      !option.meetsDeadline ? "MISSED" : option.withinBudget ? "met" : "over budget",
      capacityCell(option),
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
    ...(shown.some((option) => option.term !== null && option.term.upfrontUsd > 0)
      ? ["UPFRONT is paid at purchase for all the instances of the row; its cost column spreads it over the term."]
      : []),
    "CAPACITY: the chance the pool launches the whole placement at once (score: spot placement score; prior: by size, bucket and count; floor?: a price at AWS's floor, not trusted" +
    (shown.some((option) => option.capacityRisk.basis === "stated") ? "; stated: a cluster's nodes, as the profile states them)." : ")."),
    "",
    ...catalogLines(plan.catalog)
  ]
}

/** An infeasible workload: the binding constraint and what the best option achieves against it. */
export const infeasibleText = (plan: InfeasiblePlan): ReadonlyArray<string> => [
  `${plan.workload}: ${plan.kind}`,
  `  No feasible placement: ${plan.constraint}: ${plan.detail}`
]
