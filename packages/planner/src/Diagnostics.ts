/**
 * What the enumeration saw beyond its top list: enough to name the binding constraint when nothing is feasible,
 * and the best on-demand placement and commitment for reasons and fleets.
 */
import type { Candidate } from "./Candidate.ts"

export interface Diagnostics {
  candidates: number
  fastest: Candidate | null
  cheapest: Candidate | null
  cheapestMeetingDeadline: Candidate | null
  /** Types that could hold the workload but have no offer in the allowed regions. */
  regionFiltered: number
  /** Types that could hold the workload but had no offer left after the purchase-option filter (incl. interruptible). */
  purchaseFiltered: number
  /** Of those, types with spot offers only that `interruptible: false` excluded. */
  spotOnlyExcluded: number
  /** The best on-demand placement and the best commitment, whether or not they made the top list. */
  bestOnDemand: Candidate | null
  bestCommitment: Candidate | null
  /** The best spot placement priced in full (the reason an on-demand recommendation gives against spot). */
  bestSpot: Candidate | null
  /** (type, count) pairs skipped because their lower bound could not enter the top list. */
  pruned: number
  /** Spot zones priced at AWS's floor with nothing known about their capacity (priced, not trusted). */
  floorPricedZones: number
  /** Spot zones left unpriced because even their lower bound could not enter a full top list. */
  spotAboveTopList: boolean
}

export const emptyDiagnostics = (): Diagnostics => ({
  candidates: 0,
  fastest: null,
  cheapest: null,
  cheapestMeetingDeadline: null,
  regionFiltered: 0,
  purchaseFiltered: 0,
  spotOnlyExcluded: 0,
  bestOnDemand: null,
  bestCommitment: null,
  bestSpot: null,
  pruned: 0,
  floorPricedZones: 0,
  spotAboveTopList: false
})

/** Records a built candidate as the fastest, cheapest or cheapest meeting the deadline, where it is. */
export const observe = (diagnostics: Diagnostics, candidate: Candidate): void => {
  if (diagnostics.fastest === null || candidate.expectedHours < diagnostics.fastest.expectedHours) diagnostics.fastest = candidate
  if (diagnostics.cheapest === null || candidate.expectedCostUsd < diagnostics.cheapest.expectedCostUsd) diagnostics.cheapest = candidate
  if (candidate.meetsDeadline &&
    (diagnostics.cheapestMeetingDeadline === null || candidate.expectedCostUsd < diagnostics.cheapestMeetingDeadline.expectedCostUsd)) {
    diagnostics.cheapestMeetingDeadline = candidate
  }
}
