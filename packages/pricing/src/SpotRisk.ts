/**
 * Spot interruption risk from the AWS Spot Instance Advisor's interruption-frequency buckets.
 *
 * The advisor publishes, per instance type and region, a bucket for "the rate at which Spot has reclaimed
 * capacity during the trailing month" (https://aws.amazon.com/ec2/spot/instance-advisor/): <5%, 5-10%, 10-15%,
 * 15-20%, >20% of instances interrupted. We turn a bucket into a rate per instance-hour like this:
 *
 * 1. Probability p that an instance is interrupted: the bucket's UPPER edge as the feed's `ranges[].max` gives it
 *    (5, 11, 16, 22 %), never its midpoint. The open bucket (>20%) has no upper edge (`max` 100); we assume 30%.
 * 2. Interruptions arrive as a Poisson process with a constant rate λ over the hours an instance is exposed:
 *    p = 1 − e^(−λ·E), so λ = −ln(1 − p) / E and MTBF = 1/λ.
 * 3. E, the exposure, is 12 hours by default (`DEFAULT_SPOT_EXPOSURE_HOURS`), not the 730 hours of the month.
 *    The feed counts instances, not instance-hours, and most spot instances live hours, not a month; reading it as
 *    a whole month of exposure puts a >20% GPU type at one interruption per 2,047 h, which is far from what GPU
 *    jobs see. The Can't Be Late traces (Wu et al., NSDI '24; packages/planner/data/spot-traces) measured
 *    p3.2xlarge / p3.16xlarge, which the advisor rates >20%, being reclaimed every 0.7-10.5 h (median 4.1 h), and
 *    accelerator types sit in the >20% bucket more often than the rest (44% of the advisor rows of the
 *    catalog's 81 types vs 32% of all other rows, Linux, snapshot of 2025-06-28). 12 h puts the >20% bucket at a 34 h MTBF: still kinder than those traces, but
 *    a 3-day job on it expects two interruptions, not 0.03. Callers override it (`exposureHours`, the planner's
 *    `spotExposureHours`): 730 for the literal monthly reading, a few hours for a family known to be scarce.
 *
 * An instance type the advisor does not list is not safe: new, scarce types (p6-b200, p5e) are exactly the ones it
 * leaves out. It gets the worst bucket's rate, `known: false`, and the label `unknown (assumed >20%)`, so no
 * output can read as if its risk were measured.
 */

export const INTERRUPTION_BUCKET_LABELS = ["<5%", "5-10%", "10-15%", "15-20%", ">20%"] as const

/** Probability that an instance is interrupted, per bucket: the bucket's upper edge (see the header). */
export const MONTHLY_INTERRUPTION_PROBABILITY: ReadonlyArray<number> = [0.05, 0.11, 0.16, 0.22, 0.3]

/**
 * Hours of exposure the advisor's share is read over (see the header, point 3). Conservative for GPU instances;
 * 730 (a month) is the literal, optimistic reading.
 */
export const DEFAULT_SPOT_EXPOSURE_HOURS = 12

/** The bucket assumed when the advisor has no entry: the worst one. */
export const UNKNOWN_BUCKET = 4

/** How an unknown bucket is shown: never a bare `unknown`, which reads as "no risk known to be there". */
export const UNKNOWN_BUCKET_LABEL = `unknown (assumed ${INTERRUPTION_BUCKET_LABELS[UNKNOWN_BUCKET]})`

export interface SpotRisk {
  /** Advisor bucket 0..4, or null when unknown or stated. */
  readonly bucket: number | null
  /** The advisor's label (`<5%`), `unknown (assumed >20%)`, or a stated rate (`stated 0.05/h`). */
  readonly label: string
  /** False when the advisor has no entry and the worst bucket's rate is assumed. */
  readonly known: boolean
  /** True when the rate is the one the capacity's owner states (`statedSpotRisk`), not an advisor bucket's. */
  readonly stated: boolean
  /** The bucket's upper edge: the share of instances interrupted, read over `exposureHours` (stated: 1 − e^(−λ·E)). */
  readonly monthlyInterruptionProbability: number
  /** The exposure the share was read over (default `DEFAULT_SPOT_EXPOSURE_HOURS`). */
  readonly exposureHours: number
  /** Expected interruptions per instance-hour (λ). */
  readonly interruptionsPerHour: number
  /** Mean hours between interruptions of one instance (1/λ). */
  readonly mtbfHours: number
}

const riskCache = new Map<string, SpotRisk>()

/** The risk of one spot instance in a bucket (null or out of range: unknown, priced as the worst bucket). */
export const spotRisk = (bucket: number | null, exposureHours: number = DEFAULT_SPOT_EXPOSURE_HOURS): SpotRisk => {
  if (!(exposureHours > 0) || !Number.isFinite(exposureHours)) {
    throw new RangeError(`spot exposure must be a positive number of hours, got ${exposureHours}`)
  }
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
    stated: false,
    monthlyInterruptionProbability: p,
    exposureHours,
    interruptionsPerHour,
    mtbfHours: 1 / interruptionsPerHour
  }
  riskCache.set(key, risk)
  return risk
}

/**
 * The lowest rate a stated risk is priced at: one reclaim per million instance-hours (114 years). A rate of exactly
 * 0 would make the mean time between reclaims infinite, and the spot job model's outages (M·(1 − a)/a) undefined;
 * at this rate a job of any length expects no interruption to the cent.
 */
export const MIN_STATED_INTERRUPTIONS_PER_HOUR = 1e-6

/** `0.05` → `0.05`, `0.123456` → `0.123`: a stated rate as a user wrote it, to three significant digits. */
const rateText = (interruptionsPerHour: number): string => String(Number(interruptionsPerHour.toPrecision(3)))

/**
 * The risk of capacity whose owner states its interruption rate: a preemptible Slurm partition's or a spot
 * Kubernetes pool's `preemptionsPerHour` in the infrastructure profile. The rate is λ itself (reclaims per
 * instance-hour, Poisson as above), so nothing is read from a bucket: the chance of a reclaim within the exposure
 * is P = 1 − e^(−λ·E), the same relation `spotRisk` inverts. Labelled `stated 0.05/h`, never as an advisor bucket.
 */
export const statedSpotRisk = (interruptionsPerHour: number, exposureHours: number = DEFAULT_SPOT_EXPOSURE_HOURS): SpotRisk => {
  if (!(interruptionsPerHour >= 0) || !Number.isFinite(interruptionsPerHour)) {
    throw new RangeError(`a stated interruption rate must be a finite number of reclaims per hour of at least 0, got ${interruptionsPerHour}`)
  }
  if (!(exposureHours > 0) || !Number.isFinite(exposureHours)) {
    throw new RangeError(`spot exposure must be a positive number of hours, got ${exposureHours}`)
  }
  const key = `stated|${interruptionsPerHour}|${exposureHours}`
  const cached = riskCache.get(key)
  if (cached !== undefined) return cached
  const rate = Math.max(interruptionsPerHour, MIN_STATED_INTERRUPTIONS_PER_HOUR)
  const risk: SpotRisk = {
    bucket: null,
    label: `stated ${rateText(interruptionsPerHour)}/h`,
    known: true,
    stated: true,
    monthlyInterruptionProbability: 1 - Math.exp(-rate * exposureHours),
    exposureHours,
    interruptionsPerHour: rate,
    mtbfHours: 1 / rate
  }
  riskCache.set(key, risk)
  return risk
}

/**
 * Mean hours between interruptions of a job that spans `instances` spot instances: any one of them being
 * reclaimed stops the job, so the rates add.
 */
export const jobMtbfHours = (risk: SpotRisk, instances: number): number => risk.mtbfHours / Math.max(1, instances)
