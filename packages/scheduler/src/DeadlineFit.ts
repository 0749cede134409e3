/**
 * What a job's deadline allows when it is admitted (pure). `constraints.deadlineHours` counts from submission, so
 * hours spent in the queue are gone: the placements left are those expected to finish in the hours remaining.
 *
 * - Every placement still fits, or some spot ones do: the job keeps the ones that fit, in the plan's order.
 * - Only on-demand (or owned capacity) still fits: the job gets on-demand: its spot placements are dropped.
 * - None fits: the job is refused, naming `constraints.deadlineHours`, with the hours left and the fastest
 *   placement's expected hours.
 * The job's policy then counts its deadline from the first attempt: the hours that remain at admission.
 */
import type { RankedPlacement } from "@frugal/runner"

export type DeadlineFit =
  | {
    readonly _tag: "Fits"
    readonly placements: ReadonlyArray<RankedPlacement>
    /** Hours from the first attempt to the deadline (null without one). */
    readonly deadlineHours: number | null
    /** True when only non-spot placements can still meet the deadline. */
    readonly onDemandOnly: boolean
  }
  | { readonly _tag: "Misses"; readonly detail: string }

const EPSILON = 1e-9

export const fitDeadline = (
  placements: ReadonlyArray<RankedPlacement>,
  deadlineHours: number | null,
  waitedHours: number
): DeadlineFit => {
  if (deadlineHours === null) return { _tag: "Fits", placements, deadlineHours: null, onDemandOnly: false }
  const remaining = deadlineHours - waitedHours
  const fitting = placements.filter((ranked) => ranked.expectedHours <= remaining + EPSILON)
  if (remaining <= 0 || fitting.length === 0) {
    const fastest = placements.reduce<number | null>((best, p) => (best === null ? p.expectedHours : Math.min(best, p.expectedHours)), null)
    return {
      _tag: "Misses",
      detail: `constraints.deadlineHours: ${deadlineHours} h from submission, ${Math.max(0, remaining).toFixed(2)} h left after ` +
        `${waitedHours.toFixed(2)} h in the queue` + (fastest === null ? "" : `; the fastest placement is expected to take ${fastest.toFixed(2)} h`)
    }
  }
  const spotFits = fitting.some((ranked) => ranked.placement.purchaseOption === "spot")
  const hadSpot = placements.some((ranked) => ranked.placement.purchaseOption === "spot")
  return { _tag: "Fits", placements: fitting, deadlineHours: remaining, onDemandOnly: hadSpot && !spotFits }
}
