/**
 * Greedy (Wu et al., NSDI '24, §4.1): spot whenever it is available, wait otherwise, and switch to
 * on-demand for good once the deadline leaves no more room to wait: the paper's safety net (time
 * left under C(t) + 2d, even on spot: "just enough time left to finish on on-demand"), with the
 * exact one-step net of `SafetyNet.ts` on top.
 */
import { isSafe } from "./SafetyNet.ts"
import { availableSpot } from "./SpotChoice.ts"
import { NONE, ON_DEMAND, type Policy } from "./Policy.ts"

export const greedyPolicy: Policy = {
  name: "greedy",
  decide: (state) => {
    if (state.computeHoursLeft <= 0) return NONE
    // Once on on-demand, the paper's Greedy stays there until the end.
    if (state.holding.kind === "on-demand") return ON_DEMAND
    if (state.hoursToDeadline < state.computeHoursLeft + 2 * state.changeoverHours) {
      return ON_DEMAND
    }
    const spot = availableSpot(state)
    if (spot !== null && isSafe(state, spot)) return spot
    return isSafe(state, NONE) ? NONE : ON_DEMAND
  }
}
