/** On-demand hours that spot would have served for less, in zones with an acceptable interruption rate. */
import { formatUsdPerHour } from "@frugal/core"
import type { Evidence, FindingBody } from "../Finding.ts"
import { findingRule } from "./FindingRule.ts"
import { bucketLabel, costliest, evidenceCostUsd, type FindingContext, monthly, offersFor, onDemandPrice, regionOf } from "./FindingContext.ts"

const spotEligible = (context: FindingContext): FindingBody | undefined => {
  const evidence: Array<Evidence> = []
  const maxBucket = context.thresholds.spotMaxInterruptionBucket
  const onDemandRows = context.costs.compute.filter((row) => row.purchaseOption === "on-demand" && row.usageHours > 0)
  for (const instanceType of [...new Set(onDemandRows.map((row) => row.instanceType))].sort()) {
    const region = regionOf(context, instanceType)
    const catalogOnDemand = onDemandPrice(context, instanceType, region)
    const zones = offersFor(context, instanceType, region, "spot")
      .filter((offer) => offer.interruptionBucket !== null && offer.interruptionBucket <= maxBucket)
      .sort((a, b) => a.hourlyPriceUsd - b.hourlyPriceUsd)
    const best = zones[0]
    const paidRate = context.pools.rate(instanceType, "on-demand")
    if (best === undefined || catalogOnDemand === undefined || paidRate <= 0) continue
    const savingPerHour = paidRate * (1 - best.hourlyPriceUsd / catalogOnDemand)
    if (savingPerHour <= 0) continue
    const remaining = context.pools.remaining(instanceType, "on-demand")
    const granted = context.pools.claimHours(instanceType, "on-demand", remaining.hours)
    const costUsd = granted.hours * savingPerHour
    if (costUsd <= 0) continue
    const dates = onDemandRows.filter((row) => row.instanceType === instanceType).map((row) => row.date).sort()
    const zoneText = zones.slice(0, 3)
      .map((offer) => `${offer.availabilityZone ?? region} ${formatUsdPerHour(offer.hourlyPriceUsd)} (interruptions ${bucketLabel(offer.interruptionBucket)})`)
      .join(", ")
    evidence.push({
      subject: instanceType,
      instanceType,
      from: dates[0] ?? null,
      to: dates.at(-1) ?? null,
      hours: granted.hours,
      costUsd,
      detail: `${granted.hours.toFixed(0)} on-demand instance-hours at ${formatUsdPerHour(paidRate)}; spot: ${zoneText} ` +
        `vs ${formatUsdPerHour(catalogOnDemand)} on demand (${((1 - best.hourlyPriceUsd / catalogOnDemand) * 100).toFixed(0)}% less)`
    })
  }
  if (evidence.length === 0) return undefined
  const costUsd = evidenceCostUsd(evidence)
  const top = costliest(evidence)
  return {
    title: "On-demand hours that could have run on spot",
    costUsd,
    monthlySavingsUsd: monthly(context, costUsd),
    evidence,
    action: `Run the interruptible part of the ${top?.subject ?? ""} work (checkpointed training, batch) on spot ` +
      "with `frugal run`, which checkpoints and falls back to on-demand when the deadline needs it."
  }
}

export const spotEligibleRule = findingRule({
  kind: "spot-eligible",
  precedence: 60,
  label: "Could be spot",
  explanation: "Remaining on-demand hours × (on-demand − the cheapest spot price in a zone whose interruption bucket is at most 10-15%).",
  find: spotEligible
})
