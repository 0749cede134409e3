/**
 * The expected course of a spot job run the way the Supervisor runs it (Frugal's deadline-aware policy): on spot
 * whenever the pool has capacity, waiting out outages while the deadline allows, on on-demand for what spot cannot
 * finish in time. One model, used two ways: the planner prices spot options with it, and
 * `SpotJobModel.test.ts` checks it against the trace simulator on the same traces and jobs.
 *
 * The pool alternates between capacity (periods of mean M, the job's mean time between interruptions) and outages
 * (mean D). With availability a (the share of time it has capacity), D = M·(1 − a)/a. Spot makes progress at e per
 * hour held (e < 1: checkpoint writes, redone work, relaunches). Over a window of T hours the progress spot can
 * give is P = a·T·e on average; for exponential periods the time with capacity in T hours has variance
 * 2·T·M²·D²/(M + D)³ (an alternating renewal process), so P is taken as normal with that spread (censored at 0,
 * and no wider than a window that is all up or all down). What spot cannot finish, E[(C − P)⁺], is done on
 * on-demand. When leaving on-demand for spot does not pay back (short spot lives
 * against the relaunch: the policy's rule 4), the policy stays on on-demand once there, and spot is used only while
 * the slack lasts.
 */

export interface SpotJobInputs {
  /** C: hours of work at full speed (what on-demand needs after its launch). */
  readonly computeHours: number
  /** R: hours from the first launch to the deadline; null for none. */
  readonly deadlineHours: number | null
  /** d: hours from a relaunch until work resumes (boot, image, data, model, checkpoint read), billed. */
  readonly launchHours: number
  /** The first launch's hours (no checkpoint to read); default `launchHours`. */
  readonly firstLaunchHours?: number | undefined
  /** e: work per hour held on spot (net of checkpoint writes and redone work), in (0, 1]. */
  readonly spotProgressPerHour: number
  /** M: mean hours a spot run lasts before an interruption. */
  readonly meanSpotRunHours: number
  /** a: share of time the pool can launch the gang, in (0, 1]. */
  readonly availability: number
  readonly spotUsdPerHour: number
  /** Null where no on-demand fallback exists: the job waits for spot. */
  readonly onDemandUsdPerHour: number | null
}

export interface SpotJobOutcome {
  /** Hours held (billed) on spot, launches included. */
  readonly spotHours: number
  /** Hours held (billed) on on-demand, launches included. */
  readonly onDemandHours: number
  /** Expected hours from the first launch request to the end. */
  readonly wallHours: number
  /** Hours spent waiting for capacity (not billed). */
  readonly waitHours: number
  readonly interruptions: number
  readonly costUsd: number
}

const normalCdf = (z: number): number => 0.5 * (1 + erf(z / Math.SQRT2))
const normalPdf = (z: number): number => Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI)

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
const erf = (x: number): number => {
  const sign = x < 0 ? -1 : 1
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t *
      Math.exp(-x * x)
  return sign * y
}

/** E[(C − P)⁺] for P normal with mean μ and standard deviation σ. */
export const expectedShortfall = (target: number, mean: number, sd: number): number => {
  if (!(sd > 1e-12)) return Math.max(0, target - mean)
  const z = (target - mean) / sd
  return (target - mean) * normalCdf(z) + sd * normalPdf(z)
}

/** P(P < C) for P normal with mean μ and standard deviation σ. */
export const shortfallProbability = (target: number, mean: number, sd: number): number =>
  sd > 1e-12 ? normalCdf((target - mean) / sd) : target > mean ? 1 : 0

/** Frugal's rule 4: whether leaving on-demand for a spot run of mean M pays back two launches and the slack they use. */
export const leavingOnDemandPays = (meanSpotRunHours: number, launchHours: number, spotUsd: number, onDemandUsd: number): boolean =>
  (onDemandUsd - spotUsd) * (meanSpotRunHours - launchHours) > (onDemandUsd + spotUsd) * launchHours + (onDemandUsd - spotUsd) * 2 * launchHours

export const spotJob = (inputs: SpotJobInputs): SpotJobOutcome => {
  const C = Math.max(0, inputs.computeHours)
  const d = Math.max(0, inputs.launchHours)
  const first = Math.max(0, inputs.firstLaunchHours ?? d)
  const e = Math.min(1, Math.max(1e-6, inputs.spotProgressPerHour))
  const M = Math.max(1e-6, inputs.meanSpotRunHours)
  const a = Math.min(1, Math.max(1e-6, inputs.availability))
  const D = (M * (1 - a)) / a
  const pSpot = inputs.spotUsdPerHour
  const pOnDemand = inputs.onDemandUsdPerHour
  const R = inputs.deadlineHours

  // Spot alone: every hour held gives e of work; each interruption ends a capacity period, so the relaunch waits a
  // whole outage, and the first launch waits one with probability 1 − a.
  const allSpot = (): SpotJobOutcome => {
    const held = C / e + first
    const interruptions = (held - first) / M
    const waitHours = (1 - a) * D + interruptions * D
    return { spotHours: held, onDemandHours: 0, wallHours: held + waitHours, waitHours, interruptions, costUsd: held * pSpot }
  }
  if (R === null || pOnDemand === null || !(R > C + first)) return allSpot()

  let onDemandWork: number
  let spotHeld: number
  let onDemandLaunches: number
  if (leavingOnDemandPays(M, d, pSpot, pOnDemand)) {
    const window = R - first
    const mean = a * window * e
    // The renewal spread, never more than a window that is all up or all down can have (a short window against
    // long periods: spot is there for all of it, with chance a, or for none of it).
    const sd = e * Math.min(Math.sqrt((2 * window * M * M * D * D) / (M + D) ** 3), window * Math.sqrt(a * (1 - a)))
    // On-demand covers outages, and displaces spot where the slack cannot absorb spot's overhead: spot time t with
    // on-demand time C − e·t must fit the window, so t ≤ (window − C)/(1 − e).
    const spotTimeFits = e < 1 ? Math.max(0, window - C) / (1 - e) : Number.POSITIVE_INFINITY
    // Spot's progress is never negative: the normal is censored at 0 (E[(C − max(P, 0))⁺]).
    const shortfall = expectedShortfall(C, mean, sd) - expectedShortfall(0, mean, sd)
    const displaced = C - e * spotTimeFits
    onDemandWork = Math.min(C, Math.max(shortfall, displaced))
    spotHeld = (C - onDemandWork) / e
    // The policy covers outages with on-demand and returns to spot when it comes back: one launch per outage used,
    // at most one per outage the window has that outlasts a launch (exponential: a share e^(−d/D)), at least one,
    // in the runs that need on-demand at all (all of them once spot is displaced).
    const outages = D > 0 ? ((window * a) / M) * Math.exp(-d / D) : 0
    const needsOnDemand = displaced > 0 ? 1 : shortfallProbability(C, mean, sd)
    onDemandLaunches = onDemandWork > 0
      ? needsOnDemand * Math.max(1, Math.min(onDemandWork / Math.max(needsOnDemand, 1e-9) / Math.max(D, d, 1e-6), outages))
      : 0
  } else {
    // Spot while the slack lasts (it shrinks by 1 − a·e per hour), then on-demand to the end.
    const slack = R - C - first
    const rate = a * e
    const spotPhase = Math.min(slack / Math.max(1e-6, 1 - rate), C / Math.max(rate, 1e-6))
    onDemandWork = Math.max(0, C - rate * spotPhase)
    spotHeld = a * spotPhase
    onDemandLaunches = onDemandWork > 0 ? 1 : 0
  }
  const onDemandHours = onDemandWork + onDemandLaunches * d
  const spotHours = spotHeld + (spotHeld > 0 ? first : 0)
  const interruptions = spotHeld / M
  const wallHours = Math.min(R, spotHours / a + onDemandHours)
  return {
    spotHours,
    onDemandHours,
    wallHours,
    waitHours: Math.max(0, wallHours - spotHours - onDemandHours),
    interruptions,
    costUsd: spotHours * pSpot + onDemandHours * pOnDemand
  }
}
