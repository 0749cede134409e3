/**
 * The human form of a plan: the recommendation first with why (why spot, why this zone, why not a
 * commitment) and what it saves against on-demand, then the ranked options as an aligned table, then
 * where the prices came from. Pure: a plan in, lines out. `--json` prints the plan itself instead.
 *
 * The types below are the fields of the `plan --json` contract (ARCHITECTURE.md) that this reads;
 * the planner's result has them all, and more.
 */
import { catalogLines, hours, usd, usdPerHour } from "./Format.ts"
import { renderTable } from "./Table.ts"

export interface OptionView {
  readonly instanceType: string
  readonly gpu: string
  readonly gpusPerInstance: number
  readonly instanceCount: number
  readonly region: string
  readonly availabilityZone: string | null
  readonly purchaseOption: string
  readonly hourlyPriceUsd: number
  readonly expectedHours: number
  readonly expectedCostUsd: number
  readonly meetsDeadline: boolean
  readonly interruptionRisk?: unknown
  readonly checkpointEveryMinutes?: number | null | undefined
  readonly priceIsEstimate?: boolean | undefined
}

export interface WorkloadView {
  readonly name: string
  readonly kind: string
  readonly constraints?: {
    readonly deadlineHours?: number | undefined
    readonly budgetUsd?: number | undefined
    readonly interruptible?: boolean | undefined
  } | undefined
}

export interface PlanView {
  readonly workload: WorkloadView
  readonly options: ReadonlyArray<OptionView>
  readonly catalog: { readonly description: string; readonly asOf: string; readonly notes: ReadonlyArray<string> }
  /** Sentences from the planner that a user should read (why not a commitment, fallbacks taken). */
  readonly notes?: ReadonlyArray<string> | undefined
}

const isCommitment = (option: OptionView): boolean =>
  option.purchaseOption === "reserved" || option.purchaseOption === "savings-plan"

/** `<5%`, `>20%`, or whatever label the planner gave; empty when unknown or irrelevant. */
export const riskLabel = (risk: unknown): string => {
  const buckets = ["<5%", "5-10%", "10-15%", "15-20%", ">20%"]
  if (typeof risk === "number") return buckets[risk] ?? `${risk}`
  if (typeof risk === "string") return risk
  if (typeof risk === "object" && risk !== null && "label" in risk && typeof risk.label === "string") return risk.label
  return ""
}

const gpusLabel = (option: OptionView): string =>
  `${option.gpusPerInstance * option.instanceCount} × ${option.gpu}`

const instancesLabel = (option: OptionView): string => `${option.instanceCount} × ${option.instanceType}`

const whereLabel = (option: OptionView): string =>
  option.availabilityZone === null ? option.region : `${option.region} ${option.availabilityZone}`

const buyLabel = (option: OptionView): string => `${option.purchaseOption}${option.priceIsEstimate === true ? "*" : ""}`

/** The on-demand option to compare a recommendation with: same instance type, same region if offered. */
export const onDemandCounterpart = (
  recommended: OptionView,
  options: ReadonlyArray<OptionView>
): OptionView | undefined => {
  const candidates = options.filter((o) => o.purchaseOption === "on-demand" && o.instanceType === recommended.instanceType)
  return candidates.find((o) => o.region === recommended.region && o.instanceCount === recommended.instanceCount) ??
    candidates.find((o) => o.region === recommended.region) ??
    [...candidates].sort((a, b) => a.expectedCostUsd - b.expectedCostUsd)[0]
}

const savingLine = (recommended: OptionView, options: ReadonlyArray<OptionView>): string | undefined => {
  if (recommended.purchaseOption === "on-demand") return undefined
  const counterpart = onDemandCounterpart(recommended, options)
  if (counterpart === undefined) return undefined
  const saving = counterpart.expectedCostUsd - recommended.expectedCostUsd
  const where = counterpart.region === recommended.region ? "" : ` in ${counterpart.region}`
  if (saving <= 0) return `  Costs ${usd(-saving)} more than on-demand ${instancesLabel(counterpart)}${where} (${usd(counterpart.expectedCostUsd)}).`
  const percent = Math.round((saving / counterpart.expectedCostUsd) * 100)
  return `  Saves ${usd(saving)} (${percent}%) against on-demand ${instancesLabel(counterpart)}${where} (${usd(counterpart.expectedCostUsd)}).`
}

const whySpot = (recommended: OptionView, workload: WorkloadView): string => {
  const deadline = workload.constraints?.deadlineHours
  const risk = riskLabel(recommended.interruptionRisk)
  const slack = deadline === undefined
    ? "there is no deadline, so interruptions cost only time"
    : `it finishes ${hours(deadline - recommended.expectedHours)} before the ${hours(deadline)} deadline with interruptions priced in`
  const checkpoint = recommended.checkpointEveryMinutes == null
    ? ""
    : `; checkpoints every ${Math.round(recommended.checkpointEveryMinutes)} min bound the work an interruption loses`
  return `  Why spot: the job is interruptible and ${slack}${risk === "" ? "" : ` (${risk} of these instances interrupted a month)`}${checkpoint}.`
}

const whyZone = (recommended: OptionView, options: ReadonlyArray<OptionView>): string | undefined => {
  if (recommended.availabilityZone === null) return undefined
  const others = options
    .filter((o) =>
      o.purchaseOption === recommended.purchaseOption && o.instanceType === recommended.instanceType &&
      o.region === recommended.region && o.availabilityZone !== null && o.availabilityZone !== recommended.availabilityZone
    )
    .sort((a, b) => a.hourlyPriceUsd - b.hourlyPriceUsd)
  const next = others[0]
  const risk = riskLabel(recommended.interruptionRisk)
  const price = `${usdPerHour(recommended.hourlyPriceUsd)} for ${instancesLabel(recommended)}`
  return next === undefined
    ? `  Why ${recommended.availabilityZone}: the only zone of ${recommended.region} in the plan with ${recommended.instanceType} spot capacity (${price}).`
    : `  Why ${recommended.availabilityZone}: the cheapest spot zone for ${recommended.instanceType} in ${recommended.region} (${price}; next ${next.availabilityZone} at ${usdPerHour(next.hourlyPriceUsd)})${risk === "" ? "" : `, interruption rate ${risk}`}.`
}

const whyOnDemand = (workload: WorkloadView, options: ReadonlyArray<OptionView>): string => {
  if (workload.constraints?.interruptible === false) return "  Why on-demand: the workload is not interruptible, so spot capacity is excluded."
  const spot = options.find((o) => o.purchaseOption === "spot")
  if (spot === undefined) return "  Why on-demand: no spot capacity fits this workload in the allowed regions."
  if (!spot.meetsDeadline) return "  Why on-demand: spot options miss the deadline once interruptions are priced in."
  return `  Why on-demand: it is cheaper in expectation than the best spot option (${usd(spot.expectedCostUsd)}) once interruptions are priced in.`
}

const whyCommitment = (recommended: OptionView): string =>
  `  Why ${recommended.purchaseOption}: the workload runs ${hours(recommended.expectedHours)}, steady enough that the commitment's lower rate beats paying on demand (${recommended.priceIsEstimate === true ? "commitment rate estimated from published discounts" : "quoted rate"}).`

/** For steady services: which commitment was considered and why it did not win. */
const whyNotCommitment = (recommended: OptionView, workload: WorkloadView, options: ReadonlyArray<OptionView>): string | undefined => {
  if (workload.kind !== "inference" || isCommitment(recommended)) return undefined
  const best = options.filter(isCommitment).sort((a, b) => a.expectedCostUsd - b.expectedCostUsd)[0]
  if (best === undefined) return "  Why not a commitment: no reserved or savings-plan rate is offered for these instances in the allowed regions."
  return `  Why not a commitment: the best, ${best.purchaseOption} ${instancesLabel(best)} in ${best.region}, comes to ${usd(best.expectedCostUsd)} against ${usd(recommended.expectedCostUsd)} for this option.`
}

const describeWorkload = (workload: WorkloadView): string => {
  const c = workload.constraints
  const parts = [
    workload.kind,
    ...(c?.deadlineHours === undefined ? [] : [`deadline ${hours(c.deadlineHours)}`]),
    ...(c?.budgetUsd === undefined ? [] : [`budget ${usd(c.budgetUsd)}`]),
    ...(c?.interruptible === undefined ? [] : [c.interruptible ? "interruptible" : "not interruptible"])
  ]
  return `${workload.name}: ${parts.join(", ")}`
}

/** The recommendation block: what to buy, what it costs, what it saves, and why. */
export const recommendationLines = (plan: PlanView): ReadonlyArray<string> => {
  const recommended = plan.options[0]
  if (recommended === undefined) return [`${describeWorkload(plan.workload)}`, "  No placement found."]
  const why = recommended.purchaseOption === "spot"
    ? [whySpot(recommended, plan.workload), whyZone(recommended, plan.options)]
    : recommended.purchaseOption === "on-demand"
    ? [whyOnDemand(plan.workload, plan.options)]
    : [whyCommitment(recommended)]
  return [
    describeWorkload(plan.workload),
    `Recommended: ${instancesLabel(recommended)} (${gpusLabel(recommended)}), ${recommended.purchaseOption} in ${whereLabel(recommended)}`,
    `  Expected cost ${usd(recommended.expectedCostUsd)} over ${hours(recommended.expectedHours)} at ${usdPerHour(recommended.hourlyPriceUsd)}${recommended.meetsDeadline ? "" : " (misses a constraint)"}.`,
    ...[savingLine(recommended, plan.options), ...why, whyNotCommitment(recommended, plan.workload, plan.options)]
      .filter((line): line is string => line !== undefined),
    ...(plan.notes ?? []).map((note) => `  Note: ${note}`)
  ]
}

export const optionsTable = (options: ReadonlyArray<OptionView>): ReadonlyArray<string> =>
  renderTable(
    [
      { header: "#", align: "right" },
      { header: "INSTANCES" },
      { header: "GPUS" },
      { header: "WHERE" },
      { header: "BUY" },
      { header: "PRICE", align: "right" },
      { header: "HOURS", align: "right" },
      { header: "EXPECTED COST", align: "right" },
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
      option.meetsDeadline ? "met" : "MISSED",
      option.purchaseOption === "spot" ? riskLabel(option.interruptionRisk) || "unknown" : "—",
      option.checkpointEveryMinutes == null ? "—" : `${Math.round(option.checkpointEveryMinutes)} min`
    ])
  )

/** The whole human report of one plan, `top` options in the table. */
export const planText = (plan: PlanView, top: number): ReadonlyArray<string> => {
  const shown = plan.options.slice(0, top)
  const estimated = shown.some((o) => o.priceIsEstimate === true)
  return [
    ...recommendationLines(plan),
    "",
    `Top ${shown.length} of ${plan.options.length} options (those meeting every constraint first, then by expected cost):`,
    ...optionsTable(shown),
    ...(estimated ? ["* commitment price is an estimate modelled from published AWS discount levels, not a quote"] : []),
    "",
    ...catalogLines(plan.catalog)
  ]
}
