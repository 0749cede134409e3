/**
 * The hard guarantee every policy keeps: after any decision, on-demand can still finish the job by
 * the deadline. It is the paper's safety net (Wu et al., NSDI '24, §4.1) made exact for a decision
 * step of any length: before holding something other than on-demand for one more step, check that
 * the work left after that step, plus one changeover, still fits in the time left after it.
 */
import { type Holding, type JobState, ON_DEMAND } from "./Policy.ts"

const EPSILON_HOURS = 1e-9

/** Progress `candidate` is sure to make during the next step. */
export const guaranteedProgressHours = (state: JobState, candidate: Holding): number => {
  if (candidate.kind === "none") return 0
  if (candidate.kind === "spot" && !state.spotHoldsForStep) return 0
  const continuing = candidate.kind === state.holding.kind &&
    (candidate.kind !== "spot" || (state.holding.kind === "spot" && state.holding.zone === candidate.zone))
  const overhead = continuing ? state.overheadHoursLeft : state.changeoverHours
  return Math.max(0, state.stepHours - overhead)
}

/** Slack left after holding `candidate` for one step: hours to spare before on-demand must start. */
export const slackAfterStepHours = (state: JobState, candidate: Holding): number =>
  state.hoursToDeadline - state.stepHours -
  (state.computeHoursLeft - guaranteedProgressHours(state, candidate) + state.changeoverHours)

/** Whether holding `candidate` for one step still lets on-demand meet the deadline afterwards. */
export const isSafe = (state: JobState, candidate: Holding): boolean => {
  if (candidate.kind === "on-demand") return true
  if (state.computeHoursLeft - guaranteedProgressHours(state, candidate) <= EPSILON_HOURS) return true
  return slackAfterStepHours(state, candidate) >= -EPSILON_HOURS
}

/** `candidate` when it is safe, on-demand otherwise. */
export const withSafetyNet = (state: JobState, candidate: Holding): Holding =>
  isSafe(state, candidate) ? candidate : ON_DEMAND

/** Slack now: hours to the deadline beyond what on-demand needs to finish from here. */
export const slackHours = (state: JobState): number =>
  state.hoursToDeadline - state.computeHoursLeft -
  (state.holding.kind === "on-demand" ? state.overheadHoursLeft : state.changeoverHours)
