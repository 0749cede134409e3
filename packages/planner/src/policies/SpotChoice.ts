/** Which zone's spot to take when several have capacity (shared by the baseline policies). */
import { type Holding, type JobState, spotIn } from "./Policy.ts"

/**
 * The spot to hold now, or null when no zone has capacity: the zone already held while it lasts
 * (moving costs a changeover), otherwise the cheapest zone with capacity.
 */
export const availableSpot = (state: JobState): Holding | null => {
  const held = state.holding
  if (held.kind === "spot" && state.spotAvailable[held.zone] === 1) return held
  let best = -1
  let bestPrice = Infinity
  for (let zone = 0; zone < state.spotAvailable.length; zone++) {
    if (state.spotAvailable[zone] !== 1) continue
    const price = state.spotPriceUsdPerHour[zone] ?? Infinity
    if (price < bestPrice) {
      best = zone
      bestPrice = price
    }
  }
  return best < 0 ? null : spotIn(best)
}
