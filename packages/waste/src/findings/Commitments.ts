/** Findings about commitments: reservations and savings plans paid for but unused, and steady on-demand load. */
import { formatUsd, formatUsdPerHour } from "@frugal/core"
import type { Offer } from "@frugal/core"
import { datesOf } from "../CostData.ts"
import type { Evidence, FindingBody } from "../Finding.ts"
import { findingRule } from "./FindingRule.ts"
import { costliest, evidenceCostUsd, type FindingContext, monthly, offersFor, onDemandPrice, regionOf } from "./FindingContext.ts"

const unusedCommitments = (context: FindingContext): FindingBody | undefined => {
  const evidence: Array<Evidence> = []
  for (const reservation of context.costs.reservations) {
    if (reservation.purchasedHours <= 0 || reservation.unusedHours <= 0) continue
    // An unused reserved hour costs the same as a used one: fee × unused / purchased.
    const wanted = reservation.amortizedFeeUsd * reservation.unusedHours / reservation.purchasedHours
    const granted = context.pools.claimDollarsOfOption("reserved", wanted, reservation.instanceType)
    if (granted.costUsd <= 0) continue
    evidence.push({
      subject: reservation.id,
      instanceType: reservation.instanceType,
      from: context.costs.period.start,
      to: datesOf(context.costs.period).at(-1) ?? context.costs.period.end,
      hours: reservation.unusedHours,
      costUsd: granted.costUsd,
      detail: `${reservation.unusedHours} of ${reservation.purchasedHours} reserved hours unused ` +
        `(${(100 * (1 - reservation.unusedHours / reservation.purchasedHours)).toFixed(0)}% utilisation) ` +
        `of ${formatUsd(reservation.amortizedFeeUsd)} amortised fees`
    })
  }
  for (const plan of context.costs.savingsPlans) {
    if (plan.unusedCommitmentUsd <= 0) continue
    const granted = context.pools.claimDollarsOfOption("savings-plan", plan.unusedCommitmentUsd, null)
    if (granted.costUsd <= 0) continue
    evidence.push({
      subject: "savings plans",
      instanceType: null,
      from: plan.start,
      to: plan.end,
      hours: 0,
      costUsd: granted.costUsd,
      detail: `${formatUsd(plan.unusedCommitmentUsd)} of ${formatUsd(plan.totalCommitmentUsd)} commitment unused`
    })
  }
  if (evidence.length === 0) return undefined
  const costUsd = evidenceCostUsd(evidence)
  const worst = costliest(evidence)
  return {
    title: "Unused commitments: reserved capacity paid for and not used",
    costUsd,
    monthlySavingsUsd: monthly(context, costUsd),
    evidence,
    action: `Move matching on-demand work onto ${worst?.subject ?? "the commitment"}` +
      `${worst?.instanceType === null || worst?.instanceType === undefined ? "" : ` (${worst.instanceType})`}` +
      " before buying anything new, and do not renew it at this size."
  }
}

/** The best 1-year commitment for a type in a region: the lowest effective hourly price. */
const bestCommitment = (context: FindingContext, instanceType: string, region: string): Offer | undefined =>
  [...offersFor(context, instanceType, region, "reserved"), ...offersFor(context, instanceType, region, "savings-plan")]
    .filter((offer) => offer.term?.years === 1)
    .sort((a, b) => a.hourlyPriceUsd - b.hourlyPriceUsd)[0]

/**
 * Steady baseline: the number of instances that ran on demand every hour of every day, i.e.
 * floor(least daily on-demand instance-hours / 24). Those hours would have cost the commitment rate.
 */
const commitmentOpportunities = (context: FindingContext): FindingBody | undefined => {
  const dates = datesOf(context.costs.period)
  if (dates.length < context.thresholds.commitmentMinDays) return undefined
  const evidence: Array<Evidence> = []
  const instanceTypes = [...new Set(context.costs.compute.filter((row) => row.purchaseOption === "on-demand").map((row) => row.instanceType))]
  let payback = ""
  for (const instanceType of instanceTypes.sort()) {
    const daily = new Map<string, number>()
    for (const row of context.costs.compute) {
      if (row.instanceType === instanceType && row.purchaseOption === "on-demand") {
        daily.set(row.date, (daily.get(row.date) ?? 0) + row.usageHours)
      }
    }
    const leastDailyHours = Math.min(...dates.map((date) => daily.get(date) ?? 0))
    const baseline = Math.floor(leastDailyHours / 24 + 1e-9)
    if (baseline < 1) continue
    const region = regionOf(context, instanceType)
    const offer = bestCommitment(context, instanceType, region)
    const catalogOnDemand = onDemandPrice(context, instanceType, region)
    const paidRate = context.pools.rate(instanceType, "on-demand")
    if (offer === undefined || catalogOnDemand === undefined || paidRate <= 0) continue
    // Scale by the catalog's discount so a negotiated on-demand rate keeps its discount too.
    const savingPerHour = paidRate * (1 - offer.hourlyPriceUsd / catalogOnDemand)
    if (savingPerHour <= 0) continue
    const granted = context.pools.claimHours(instanceType, "on-demand", baseline * context.periodHours)
    const costUsd = granted.hours * savingPerHour
    if (costUsd <= 0) continue
    const breakEven = offer.hourlyPriceUsd / catalogOnDemand
    const monthlySaving = baseline * context.thresholds.hoursPerMonth * savingPerHour
    const upfront = (offer.term?.upfrontUsd ?? 0) * baseline
    // Cash payback: the upfront is recovered by what stops being paid each month (on-demand minus the recurring fee).
    const monthlyCashSaving = baseline * context.thresholds.hoursPerMonth * (paidRate - (offer.term?.recurringHourlyUsd ?? 0))
    const paybackText = upfront > 0
      ? `payback ${(upfront / monthlyCashSaving).toFixed(1)} months on ${formatUsd(upfront)} upfront, ` +
        `${formatUsd(monthlySaving)} a month saved over the term`
      : "no upfront payment, saves from the first hour"
    if (payback === "") payback = `${baseline}× ${instanceType} ${describeTerm(offer)} in ${region}`
    evidence.push({
      subject: instanceType,
      instanceType,
      from: dates[0] ?? null,
      to: dates.at(-1) ?? null,
      hours: granted.hours,
      costUsd,
      detail: `${baseline} instance(s) on demand around the clock (least day: ${leastDailyHours} instance-hours); ` +
        `${describeTerm(offer)} at ${formatUsdPerHour(offer.hourlyPriceUsd)} vs ${formatUsdPerHour(catalogOnDemand)} on demand: ` +
        `break-even utilisation ${(breakEven * 100).toFixed(0)}%, ${paybackText}`
    })
  }
  if (evidence.length === 0) return undefined
  const costUsd = evidenceCostUsd(evidence)
  return {
    title: "Steady on-demand baseline that a commitment would cut",
    costUsd,
    monthlySavingsUsd: monthly(context, costUsd),
    evidence,
    action: `Buy ${payback} to cover the always-on baseline; keep the variable part on spot or on demand.`
  }
}

const describeTerm = (offer: Offer): string =>
  offer.term === null
    ? offer.purchaseOption
    : `1-year ${offer.term.offeringClass} ${offer.purchaseOption === "savings-plan" ? "savings plan" : "reservation"} (${offer.term.paymentOption})`

export const unusedCommitmentRule = findingRule({
  kind: "unused-commitment",
  precedence: 10,
  label: "Unused commitments",
  explanation: "Reserved hours not used × the reservation's amortised hourly fee, plus savings-plan commitment not used.",
  find: unusedCommitments
})

export const commitmentOpportunityRule = findingRule({
  kind: "commitment-opportunity",
  precedence: 50,
  label: "Commit the baseline",
  explanation: "Instances that ran on demand every hour of every day × (on-demand − the best 1-year commitment rate).",
  find: commitmentOpportunities
})
