/**
 * The search for the smallest instance count of a type that meets a deadline. `InstanceCounts` proposes the first
 * counts from base hours alone (the fewest that hold the workload, then doublings until the base hours leave 5% of
 * slack). Whether a count meets the deadline is known only once it is priced: launches, waits, checkpoints and
 * interruptions come on top of the base hours, and on a spot pool without an on-demand fallback (a cluster's
 * scavenger partition) they can take a count whose base hours fit well past the deadline. So after pricing, the
 * search goes on: past the largest count while every count priced missed (doubling, up to the type's limit), and
 * between the largest count that missed and the smallest that met (halving the gap), until they are neighbours.
 * Pure: the enumeration reports what each count showed and asks for the next one.
 */

/**
 * What pricing a count showed: `pending` (not priced yet), `met` (a placement of it meets the deadline), `missed`
 * (every placement priced misses it), `unknown` (not priced in full: pruned by its bound, or its estimate does not
 * fit), which ends the search in that direction.
 */
export type CountOutcome = "pending" | "met" | "missed" | "unknown"

/** One type's counts and their outcomes; `limit` is the most instances the type allows. */
export interface CountSearch {
  readonly limit: number
  readonly outcomes: Map<number, CountOutcome>
}

export const countSearch = (limit: number, counts: ReadonlyArray<number>): CountSearch => ({
  limit,
  outcomes: new Map(counts.map((count) => [count, "pending"]))
})

/**
 * The next count worth pricing, or null: none while a count is still pending; the double of the largest count
 * (at most `limit`) while every count missed; the middle of the gap between the largest count that missed and
 * the smallest that met while they are not neighbours.
 */
export const nextCount = (search: CountSearch): number | null => {
  const counts = [...search.outcomes.keys()].sort((a, b) => a - b)
  if (counts.some((count) => search.outcomes.get(count) === "pending")) return null
  const firstMet = counts.find((count) => search.outcomes.get(count) === "met")
  if (firstMet === undefined) {
    const largest = counts.at(-1)
    if (largest === undefined || search.outcomes.get(largest) !== "missed" || largest >= search.limit) return null
    return Math.min(largest * 2, search.limit)
  }
  const below = counts.filter((count) => count < firstMet).at(-1)
  if (below === undefined || search.outcomes.get(below) !== "missed" || firstMet - below < 2) return null
  return Math.floor((below + firstMet) / 2)
}
