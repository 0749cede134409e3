/**
 * Turns ranked candidates into the options users read: rounded figures (rules in `PlanResult.ts`) and a one-line
 * reason: why spot, why this AZ, what it saves against on-demand of the same type, and why a commitment does or
 * does not pay.
 */
import { formatUsd } from "@frugal/core"
import { INTERRUPTION_BUCKET_LABELS, UNKNOWN_BUCKET } from "@frugal/pricing"
import { type Candidate, MIN_SPOT_SAVING, type Settings } from "./Candidate.ts"
import { spotZoneStats } from "./Pricers.ts"
import { shownZone } from "./CatalogIndex.ts"
import {
  fraction,
  hourly,
  hoursOf,
  type PlacementOption,
  roundTo,
  significant,
  usd
} from "./PlanResult.ts"

const pct = (value: number): string => (value > 0 && value < 0.005 ? "under 1%" : `${Math.round(value * 100)}%`)

const hoursText = (hours: number): string => (hours >= 1000 ? `${Math.round(hours)} h` : `${roundTo(hours, 1)} h`)
const placementName = (c: Candidate): string => `${c.indexed.type.name}${c.instances > 1 ? ` × ${c.instances}` : ""}`
const period = (settings: Settings): string => (settings.perMonth ? "/month" : "")

export const saving = (c: Candidate): number | null =>
  c.onDemandCostUsd === null || c.purchaseOption === "on-demand" ? null : c.onDemandCostUsd - c.expectedCostUsd

const termName = (c: Candidate): string => {
  const term = c.commitment?.term
  if (term === undefined) return c.purchaseOption
  const kind = c.purchaseOption === "reserved" ? `${term.offeringClass} reserved` : "compute savings plan"
  return `${term.years}-yr ${kind} (${term.paymentOption}${c.priceIsEstimate ? ", estimated rate" : ""})`
}

const constraintMisses = (c: Candidate, settings: Settings): string => {
  const misses: Array<string> = []
  if (!c.meetsDeadline && settings.deadlineHours !== null) {
    misses.push(`misses the ${hoursText(settings.deadlineHours)} deadline (${hoursText(c.expectedHours)})`)
  }
  if (!c.withinBudget && settings.budgetUsd !== null) misses.push(`over the ${formatUsd(settings.budgetUsd)} budget`)
  return misses.join("; ")
}

const savingText = (c: Candidate): string => {
  const s = saving(c)
  if (s === null || c.onDemandCostUsd === null || c.onDemandRegion === null) return ""
  const where = c.onDemandRegion === c.region ? `in ${c.region}` : `(cheapest in ${c.onDemandRegion})`
  return s >= 0
    ? `saves ${formatUsd(s)} (${pct(s / c.onDemandCostUsd)}) vs on-demand ${c.indexed.type.name} ${where}`
    : `costs ${formatUsd(-s)} more than on-demand ${c.indexed.type.name} ${where}`
}

const spotDetail = (c: Candidate): string => {
  if (c.spot === null || c.risk === null) return ""
  const checkpoint = Number.isFinite(c.spot.checkpointEveryHours)
    ? `, checkpoint every ${Math.round(c.spot.checkpointEveryHours * 60)} min`
    : ""
  // An unknown bucket must not read like a measured one: say that it is assumed, and which bucket it is priced as.
  const bucket = c.risk.stated
    ? `pre-emptions at the profile's ${c.risk.label} per node`
    : c.risk.known
    ? `${c.risk.label} interruption bucket`
    : `interruption bucket unknown (no Spot Instance Advisor entry), priced as ${INTERRUPTION_BUCKET_LABELS[UNKNOWN_BUCKET]}`
  return `${bucket}, ~${roundTo(c.spot.expectedInterruptions, 2)} expected interruptions${checkpoint}`
}

const capacityLabel = (c: Candidate): string => {
  const chance = pct(c.capacity.availability)
  const word = c.capacity.basis === "suspicious-price"
    ? "suspicious"
    : c.capacity.basis === "stated"
    ? "stated"
    : c.capacity.availability >= 0.75 ? "likely" : c.capacity.availability >= 0.3 ? "uncertain" : "unlikely"
  // A few hundred distinct labels: a fleet of thousands of plans shares one copy of each.
  const key = `${word}|${chance}`
  let label = capacityLabels.get(key)
  if (label === undefined) {
    label = word === "suspicious" ? `suspicious price, ${chance} assumed` : `${word} (${chance})`
    capacityLabels.set(key, label)
  }
  return label
}

const capacityLabels = new Map<string, string>()

const gangText = (c: Candidate): string => (c.instances > 1 ? `${c.instances} × ${c.indexed.type.name} together` : c.indexed.type.name)

/** Where the capacity figure comes from, in words. */
const capacityBasisText = (c: Candidate): string => {
  switch (c.capacity.basis) {
    case "stated":
      return "the cluster's capacity as the profile states it"
    case "placement-score":
      return "from the spot placement score"
    case "suspicious-price":
      return `the price is at AWS's floor with nothing known about the pool (no placement score, no advisor entry), so it is not trusted`
    case "prior":
      return "a prior by instance size, interruption bucket and count"
  }
}

/**
 * Which prices decide a spot option's expected cost: spot for the hours spot can run, on-demand for the fallback
 * that keeps the deadline, and how likely the pool is to launch the gang at all.
 */
const spotPricing = (c: Candidate): string => {
  if (c.spot === null) return ""
  const n = c.instances
  const spotUsd = c.spot.spotHours * n * c.hourlyUsd
  const fallback = c.capacity.onDemandFallbackHours ?? 0
  const chance = `${gangText(c)} launches ${pct(c.capacity.availability)} of the time (${capacityBasisText(c)})`
  if (!(fallback > 0.005) || c.capacity.onDemandFallbackUsd === null) {
    return `${chance}; expected ${formatUsd(c.computeCostUsd)} at the spot price ${formatUsd(c.hourlyUsd)}/h${
      c.capacity.waitHours > 0.05 ? ` after ~${hoursText(c.capacity.waitHours)} of waiting for capacity` : ""
    }`
  }
  return `${chance}; expected ${formatUsd(c.computeCostUsd)}: ${formatUsd(spotUsd)} at the spot price ${formatUsd(c.hourlyUsd)}/h and ` +
    `${formatUsd(fallback * n * c.capacity.onDemandFallbackUsd)} for ${hoursText(fallback)} of on-demand fallback at ${formatUsd(c.capacity.onDemandFallbackUsd)}/h`
}

const commitmentDetail = (c: Candidate, settings: Settings): string => {
  if (c.charge === null) return ""
  const breakEven = c.charge.breakEvenUtilization === null ? "" : `; breaks even at ${pct(c.charge.breakEvenUtilization)} utilisation`
  return settings.perMonth
    ? `runs ${pct(c.charge.utilization)} of the month${breakEven}`
    : `uses ${pct(c.charge.utilization)} of ${c.charge.terms > 1 ? `${c.charge.terms} terms` : "the term"}${breakEven}`
}

/** Why not a commitment, when the recommendation is not one and commitments were priced. */
const whyNoCommitment = (best: Candidate | null, settings: Settings): string => {
  if (best === null || best.charge === null) return ""
  const breakEven = best.charge.breakEvenUtilization
  if (settings.perMonth) {
    return breakEven === null
      ? `no commitment: the best (${termName(best)}) costs more`
      : `no commitment: the service runs ${pct(best.charge.utilization)} of the month, below the ${pct(breakEven)} break-even of a ${termName(best)}`
  }
  return breakEven === null
    ? "no commitment: it would outlast the job"
    : `no commitment: the job would use ${pct(best.charge.utilization)} of a ${termName(best)}, which breaks even at ${pct(breakEven)}`
}

/** The recommendation's one-line reason. */
const recommendationReason = (c: Candidate, context: ReasonContext, settings: Settings): string => {
  const ranked = context.ranked
  const parts: Array<string> = []
  if (c.purchaseOption === "spot") {
    const stats = spotZoneStats(c, settings)
    const runnerUp = stats.runnerUp === null ? "" : `; next ${stats.runnerUp.zone} at ${formatUsd(stats.runnerUp.costUsd)}`
    const zone = shownZone(c.zone)
    parts.push(`spot in ${zone === null ? c.region : `${zone} (${c.region})`}: cheapest of ${stats.zones} zones for ${placementName(c)}${runnerUp}`)
    parts.push(spotPricing(c))
    const floor = stats.floorPriced[0]
    if (floor !== undefined) {
      const under = Number.isNaN(floor.discount) ? "with no on-demand price to compare" : `${pct(floor.discount)} under on-demand`
      parts.push(
        `not ${floor.zone} at ${formatUsd(floor.hourlyUsd)}/h (${under}${stats.floorPriced.length > 1 ? `, and ${stats.floorPriced.length - 1} more like it` : ""}): ` +
          `a price at AWS's floor with nothing known about the pool, weighted by a ${pct(floor.obtainProbability)} chance of capacity it comes to ${formatUsd(floor.costUsd)}`
      )
    }
    parts.push(spotDetail(c))
    parts.push(savingText(c))
  } else if (c.purchaseOption === "on-demand") {
    const spot = ranked.find((o) => o.purchaseOption === "spot") ?? context.bestSpot ?? undefined
    const whyNotSpot = !settings.interruptible
      ? "not interruptible, so no spot"
      : !settings.purchase.has("spot")
      ? "spot excluded by resources.purchaseOptions"
      : spot === undefined
      ? context.spotAboveTopList ? "spot costs more" : "no spot offer for a placement that holds it"
      : !spot.meetsDeadline
      ? `spot would miss the deadline (${hoursText(spot.expectedHours)} expected)`
      : spot.thinSaving
      ? `spot saves under ${pct(MIN_SPOT_SAVING)} (${formatUsd(spot.expectedCostUsd)}, ${hoursText(spot.capacity.onDemandFallbackHours ?? 0)} of it on the on-demand fallback: ${gangText(spot)} launches ${pct(spot.capacity.availability)} of the time)`
      : `spot costs more (${formatUsd(spot.expectedCostUsd)})`
    parts.push(`on-demand ${placementName(c)} in ${c.region}: ${whyNotSpot}`)
    parts.push(whyNoCommitment(context.bestCommitment, settings))
  } else {
    parts.push(`${termName(c)} ${placementName(c)} in ${c.region}: ${formatUsd(c.expectedCostUsd)}${period(settings)}`)
    parts.push(savingText(c))
    parts.push(commitmentDetail(c, settings))
  }
  return parts.filter((p) => p !== "").join("; ")
}

const optionReason = (c: Candidate, settings: Settings): string => {
  const parts = [
    c.purchaseOption === "spot" ? spotDetail(c) : c.purchaseOption === "on-demand" ? "no interruptions" : commitmentDetail(c, settings),
    c.purchaseOption === "spot" && c.capacity.basis === "suspicious-price" ? `price at the floor, ${pct(c.capacity.availability)} chance of capacity assumed` : "",
    c.thinSaving ? `saves under ${pct(MIN_SPOT_SAVING)} against on-demand, ranked after the options that save more` : "",
    savingText(c),
    constraintMisses(c, settings)
  ]
  return parts.filter((p) => p !== "").join("; ")
}

/** What the recommendation's reason compares against. */
export interface ReasonContext {
  readonly ranked: ReadonlyArray<Candidate>
  readonly bestCommitment: Candidate | null
  /** The best spot placement priced, whether or not it made the list. */
  readonly bestSpot: Candidate | null
  /** Spot offers existed but cost more than every option of the list, on their lower bound alone. */
  readonly spotAboveTopList: boolean
}

export const toOption = (c: Candidate, settings: Settings, context: ReasonContext, recommended: boolean): PlacementOption => {
  const term = c.commitment?.term
  const s = saving(c)
  return {
    instanceType: c.indexed.type.name,
    gpu: c.indexed.type.accelerator,
    gpusPerInstance: c.indexed.type.acceleratorCount,
    instanceCount: c.instances,
    region: c.region,
    availabilityZone: shownZone(c.zone),
    purchaseOption: c.purchaseOption,
    term: term === undefined
      ? null
      : {
        years: term.years,
        paymentOption: term.paymentOption,
        offeringClass: term.offeringClass,
        upfrontUsd: usd(term.upfrontUsd * c.instances * (c.charge?.terms ?? 1))
      },
    hourlyPriceUsd: hourly(c.hourlyUsd),
    baseHours: hoursOf(c.baseHours),
    expectedHours: hoursOf(c.expectedHours),
    expectedCostUsd: usd(c.expectedCostUsd),
    transferCostUsd: usd(c.transferCostUsd),
    meetsDeadline: c.meetsDeadline,
    withinBudget: c.withinBudget,
    interruptionRisk: c.spot === null || c.risk === null
      ? null
      : {
        bucket: c.risk.bucket,
        label: c.risk.label,
        interruptionsPerHour: significant(c.spot.interruptionsPerHour),
        expectedInterruptions: roundTo(c.spot.expectedInterruptions, 4)
      },
    checkpointEveryMinutes: c.spot !== null && Number.isFinite(c.spot.checkpointEveryHours)
      ? roundTo(c.spot.checkpointEveryHours * 60, 1)
      : null,
    onDemandCostUsd: c.onDemandCostUsd === null ? null : usd(c.onDemandCostUsd),
    savingVsOnDemandUsd: s === null ? null : usd(s),
    priceIsEstimate: c.priceIsEstimate,
    utilization: c.charge === null ? null : fraction(c.charge.utilization),
    breakEvenUtilization: c.charge === null || c.charge.breakEvenUtilization === null ? null : fraction(c.charge.breakEvenUtilization),
    owned: false,
    capacityRisk: {
      obtainProbability: fraction(c.capacity.availability),
      basis: c.capacity.basis,
      label: capacityLabel(c),
      expectedWaitHours: hoursOf(c.capacity.waitHours),
      onDemandFallbackHours: c.capacity.onDemandFallbackHours === null ? null : hoursOf(c.capacity.onDemandFallbackHours),
      onDemandFallbackHourlyUsd: c.capacity.onDemandFallbackUsd === null || c.purchaseOption !== "spot" ? null : hourly(c.capacity.onDemandFallbackUsd)
    },
    launchHours: c.launch === null ? null : hoursOf(c.launch.firstLaunchHours),
    reason: recommended ? recommendationReason(c, context, settings) : optionReason(c, settings)
  }
}
