/**
 * The rules a team's queue runs by, as data: each team's monthly budget in dollars and GPU limit, the global GPU
 * limit, how fast a waiting job ages, when urgent work may preempt, and the commitments the account already owns.
 * `frugal server` decodes them from `scheduler.yaml` (packages/server); the scheduler only reads them.
 */

export interface TeamLimits {
  readonly name: string
  /** What the team may spend in a calendar month (UTC), USD: spent + reserved + the next job must fit. */
  readonly monthlyBudgetUsd: number
  /** GPUs the team's running jobs may hold at once. */
  readonly maxGpus: number
}

/** Reserved instances the account owns: `count` instances of one type in one region, charged at their effective rate. */
export interface OwnedReservation {
  readonly kind: "reserved"
  readonly instanceType: string
  readonly region: string
  readonly count: number
  /** What an hour of one reserved instance is charged to the team (its amortised rate), USD. */
  readonly hourlyPriceUsd: number
}

/** A compute savings plan the account owns: on-demand usage up to the commitment is billed at the discounted rate. */
export interface OwnedSavingsPlan {
  readonly kind: "savings-plan"
  /** Committed spend per hour at savings-plan rates, USD. */
  readonly commitmentUsdPerHour: number
  /** Fraction off the on-demand price (0.28 for a typical 1-year compute plan). */
  readonly discount: number
}

export type OwnedCommitment = OwnedReservation | OwnedSavingsPlan

export interface SchedulerPolicy {
  readonly teams: ReadonlyArray<TeamLimits>
  /** GPUs every running job together may hold. */
  readonly maxGpus: number
  /** Points of priority a waiting job gains per hour waited (whole points: see QueueOrder). */
  readonly agingPointsPerHour: number
  /** Urgent work may preempt running spot jobs whose priority is at least `minPriorityGap` lower. */
  readonly preemption: { readonly enabled: boolean; readonly minPriorityGap: number }
  readonly commitments: ReadonlyArray<OwnedCommitment>
}

export const DEFAULT_AGING_POINTS_PER_HOUR = 1
export const DEFAULT_PREEMPTION_GAP = 10

export const teamLimits = (policy: SchedulerPolicy, team: string): TeamLimits | undefined =>
  policy.teams.find((entry) => entry.name === team)
