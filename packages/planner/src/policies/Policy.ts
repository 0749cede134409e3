/**
 * The spot policy interface shared by the trace simulator and the runner's Supervisor.
 *
 * A policy is a pure decision: given the job's state now and the spot history observed so far, it
 * says what to hold until the next decision. It keeps no memory of its own, so the Supervisor may
 * call it on every event (a pre-emption, a spot offer, a periodic check) and the simulator on every
 * trace tick, and both get the same answer for the same inputs. Anything a policy needs to remember
 * is in the state (what is held, for how long the changeover still runs) or in the history.
 *
 * Semantics (Wu et al., "Can't Be Late", NSDI '24, §3.1): launching any instance, or moving to
 * another zone, costs the changeover delay `changeoverHours` (billed, no progress); the instance
 * held is billed for every hour it is held; spot is pre-empted when its zone stops having capacity.
 *
 * The hot loop of the simulator calls `decide` hundreds of millions of times in the bench, so the
 * state and history objects are reused between calls (read them, never keep them) and holdings are
 * the shared constants below: `NONE`, `ON_DEMAND` and `spotIn(zone)`.
 */

/** What to hold until the next decision. Zones are indexes into `JobState.spotAvailable`. */
export type Holding =
  | { readonly kind: "spot"; readonly zone: number }
  | { readonly kind: "on-demand" }
  | { readonly kind: "none" }

export const NONE: Holding = { kind: "none" }
export const ON_DEMAND: Holding = { kind: "on-demand" }

const spotHoldings: Array<Holding> = []
/** The shared holding object for spot in `zone` (allocated once per zone). */
export const spotIn = (zone: number): Holding => {
  let holding = spotHoldings[zone]
  if (holding === undefined) {
    for (let z = spotHoldings.length; z <= zone; z++) spotHoldings.push({ kind: "spot", zone: z })
    holding = spotHoldings[zone] ?? { kind: "spot", zone }
  }
  return holding
}

export const sameHolding = (a: Holding, b: Holding): boolean =>
  a.kind === b.kind && (a.kind !== "spot" || (b.kind === "spot" && a.zone === b.zone))

/** The job as the policy sees it at a decision point. All durations are hours. */
export interface JobState {
  /** C: compute hours the whole job needs on one instance. */
  readonly computeHours: number
  /** R: hours from the job's start to its deadline. */
  readonly deadlineHours: number
  /** d: changeover delay paid on every launch (restore, warm-up, lost work since the checkpoint). */
  readonly changeoverHours: number
  readonly elapsedHours: number
  readonly computeHoursLeft: number
  readonly hoursToDeadline: number
  /** Changeover still to be paid by the instance held now (0 once it is making progress). */
  readonly overheadHoursLeft: number
  /** The longest time until the next decision (a trace tick, or the Supervisor's check interval). */
  readonly stepHours: number
  /**
   * Whether spot that is available now is known to stay up for the whole step. True in the trace
   * simulator (availability is per tick); false at run time, where a pre-emption can come at any
   * moment, so the safety net does not count on spot progress.
   */
  readonly spotHoldsForStep: boolean
  readonly holding: Holding
  /** Per zone: 1 when spot can be had there now, 0 when not. */
  readonly spotAvailable: ArrayLike<number>
  /** Per zone: spot price now, USD per hour. */
  readonly spotPriceUsdPerHour: ArrayLike<number>
  readonly onDemandPriceUsdPerHour: number
  /** Per job: lets a randomised policy draw the same choices for the same job. */
  readonly seed: number
}

/**
 * What has been observed about each zone's spot capacity up to now (including before the job
 * started: AWS publishes spot history, and the Supervisor keeps its own). Hours throughout.
 */
export interface SpotHistory {
  /** How long zone `zone` has been in its current state (available or not) before now; 0 when it just changed. */
  readonly currentStateHours: (zone: number) => number
  /** Completed availability periods (spot came up, then went away) observed in the zone. */
  readonly completedSpotPeriods: (zone: number) => number
  /** Their total length. */
  readonly completedSpotPeriodHours: (zone: number) => number
  /**
   * Mean time the zone's completed spot periods went on after reaching `ageHours` (among those
   * that outlived it), or NaN when none did: the expected remaining lifetime of spot that has been up that
   * long, over the latest `RECENT_SPOT_PERIODS` periods. Spot lifetimes are heavy-tailed, so this
   * grows with the age.
   */
  readonly meanResidualSpotHours: (zone: number, ageHours: number) => number
  /** Hours observed before now, and of those, hours with spot available. */
  readonly observedHours: (zone: number) => number
  readonly availableHours: (zone: number) => number
}

/** How many of a zone's latest completed spot periods `meanResidualSpotHours` looks at. */
export const RECENT_SPOT_PERIODS = 200

export interface Policy {
  /** Stable name used by the CLI (`--policy frugal`) and in reports. */
  readonly name: string
  readonly decide: (state: JobState, history: SpotHistory) => Holding
}
