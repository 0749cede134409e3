/**
 * Uniform Progress (Wu et al., NSDI '24, §4.2–4.3), the paper's policy. With ep(t) = C·t/R the
 * progress a job would have made running uniformly to its deadline and cp(t) the progress made:
 * 1. idle and cp(t) < ep(t): switch to on-demand to catch up;
 * 2. take spot whenever it is available (even when behind) and keep it until pre-empted;
 * 3. hysteresis: on on-demand, stay until cp(t) ≥ ep(t + 2d);
 * 4. safety net: once the time left is under C(t) + 2d, on-demand until the end.
 * The exact one-step safety net of `SafetyNet.ts` is applied on top, so the guarantee holds for
 * any tick length.
 */
import { isSafe } from "./SafetyNet.ts"
import { availableSpot } from "./SpotChoice.ts"
import { type JobState, NONE, ON_DEMAND, type Policy } from "./Policy.ts"

const expectedProgressHours = (state: JobState, atElapsedHours: number): number =>
  (state.computeHours * atElapsedHours) / state.deadlineHours

export const uniformProgressPolicy: Policy = {
  name: "uniform-progress",
  decide: (state) => {
    if (state.computeHoursLeft <= 0) return NONE
    const d = state.changeoverHours
    const progress = state.computeHours - state.computeHoursLeft
    const onDemand = state.holding.kind === "on-demand"
    // Rule 4: the paper's safety net, with its 2d margin.
    if (state.hoursToDeadline < state.computeHoursLeft + 2 * d && (onDemand || state.holding.kind === "none")) {
      return ON_DEMAND
    }
    // Rule 3: hysteresis, which also keeps on-demand when spot comes back while still behind.
    const spot = availableSpot(state)
    const hysteresisLine = spot === null ? state.elapsedHours + 2 * d : state.elapsedHours
    if (onDemand && progress < expectedProgressHours(state, hysteresisLine)) return ON_DEMAND
    if (spot !== null) return isSafe(state, spot) ? spot : ON_DEMAND
    if (onDemand) return isSafe(state, NONE) ? NONE : ON_DEMAND
    // Rule 1.
    if (progress < expectedProgressHours(state, state.elapsedHours)) return ON_DEMAND
    return isSafe(state, NONE) ? NONE : ON_DEMAND
  }
}
