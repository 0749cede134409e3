/**
 * Spot interruption risk from the AWS Spot Instance Advisor's interruption-frequency buckets.
 *
 * The advisor publishes, per instance type and region, a bucket for "the rate at which Spot has reclaimed
 * capacity during the trailing month" (https://aws.amazon.com/ec2/spot/instance-advisor/): <5%, 5-10%, 10-15%,
 * 15-20%, >20% of instances interrupted. We turn a bucket into a rate like this:
 *
 * 1. Probability p that one instance is interrupted within a month: the bucket's upper bound as the feed's
 *    `ranges[].max` gives it (5, 11, 16, 22 %), the cautious end of each bucket. The open bucket (>20%) has no
 *    upper bound (`max` 100); we assume 30%.
 * 2. Interruptions arrive as a Poisson process with a constant rate λ, and the advisor's population runs for the
 *    whole month (730 h): p = 1 − e^(−λ·730), so λ = −ln(1 − p) / 730 per instance-hour and MTBF = 1/λ.
 *
 * Assumption 2 is the literal reading of the feed; where the measured population lives shorter than a month the
 * true rate is higher. `exposureHours` lets a caller (or calibration from the ledger) use a shorter exposure.
 * An instance type the advisor does not list is not safe: new, scarce types (p6-b200, p5e) are exactly the ones it
 * leaves out. It gets the worst bucket's rate, `known: false`, and the label `unknown (assumed >20%)`, so no
 * output can read as if its risk were measured.
 */

import { HOURS_PER_MONTH } from "@frugal/core"

export const INTERRUPTION_BUCKET_LABELS = ["<5%", "5-10%", "10-15%", "15-20%", ">20%"] as const

/** Monthly interruption probability per bucket (see the header for why these values). */
export const MONTHLY_INTERRUPTION_PROBABILITY: ReadonlyArray<number> = [0.05, 0.11, 0.16, 0.22, 0.3]

/** The bucket assumed when the advisor has no entry: the worst one. */
export const UNKNOWN_BUCKET = 4

/** How an unknown bucket is shown: never a bare `unknown`, which reads as "no risk known to be there". */
export const UNKNOWN_BUCKET_LABEL = `unknown (assumed ${INTERRUPTION_BUCKET_LABELS[UNKNOWN_BUCKET]})`

export interface SpotRisk {
  /** Advisor bucket 0..4, or null when unknown. */
  readonly bucket: number | null
  /** The advisor's label (`<5%`), or `unknown (assumed >20%)`. */
  readonly label: string
  /** False when the advisor has no entry and the worst bucket's rate is assumed. */
  readonly known: boolean
  readonly monthlyInterruptionProbability: number
  /** Expected interruptions per instance-hour (λ). */
  readonly interruptionsPerHour: number
  /** Mean hours between interruptions of one instance (1/λ). */
  readonly mtbfHours: number
}

const riskCache = new Map<string, SpotRisk>()

/** The risk of one spot instance in a bucket (null or out of range: unknown, priced as the worst bucket). */
export const spotRisk = (bucket: number | null, exposureHours: number = HOURS_PER_MONTH): SpotRisk => {
  const known = bucket !== null && Number.isInteger(bucket) && bucket >= 0 && bucket < MONTHLY_INTERRUPTION_PROBABILITY.length
  const index = known ? bucket : UNKNOWN_BUCKET
  const key = `${known ? index : "unknown"}|${exposureHours}`
  const cached = riskCache.get(key)
  if (cached !== undefined) return cached
  const p = MONTHLY_INTERRUPTION_PROBABILITY[index] ?? 0.3
  const interruptionsPerHour = -Math.log(1 - p) / exposureHours
  const risk: SpotRisk = {
    bucket: known ? index : null,
    label: known ? INTERRUPTION_BUCKET_LABELS[index] ?? UNKNOWN_BUCKET_LABEL : UNKNOWN_BUCKET_LABEL,
    known,
    monthlyInterruptionProbability: p,
    interruptionsPerHour,
    mtbfHours: 1 / interruptionsPerHour
  }
  riskCache.set(key, risk)
  return risk
}

/**
 * Mean hours between interruptions of a job that spans `instances` spot instances: any one of them being
 * reclaimed stops the job, so the rates add.
 */
export const jobMtbfHours = (risk: SpotRisk, instances: number): number => risk.mtbfHours / Math.max(1, instances)
