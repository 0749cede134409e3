/**
 * The order of the queue (pure): effective priority first, then deadline slack, then submission time.
 *
 * - Aging: a waiting job gains `agingPointsPerHour` points per hour waited, in whole points, so nothing starves: a
 *   priority-0 job waiting H hours ranks with a fresh job of priority H × rate. Whole points keep ties among jobs of
 *   one level, which the deadline then orders (continuous aging would order those by age alone).
 * - Deadline slack: hours from now to the job's deadline (submission + `constraints.deadlineHours`) less the hours it
 *   is expected to run; the least slack goes first. A job without a deadline has infinite slack.
 * - Then the oldest submission, then the id, so the order is total and the same on every replica.
 */

const HOUR_MILLIS = 3_600_000

export interface Orderable {
  readonly id: string
  readonly priority: number
  readonly submittedAtMillis: number
  /** Hours from submission to the deadline; null without one. */
  readonly deadlineHours: number | null
  /** Expected wall-clock hours of the job (its plan's first placement); 0 when unknown. */
  readonly expectedHours: number
}

export const waitedHours = (job: Pick<Orderable, "submittedAtMillis">, nowMillis: number): number =>
  Math.max(0, (nowMillis - job.submittedAtMillis) / HOUR_MILLIS)

export const effectivePriority = (job: Orderable, nowMillis: number, agingPointsPerHour: number): number =>
  job.priority + Math.floor(waitedHours(job, nowMillis) * agingPointsPerHour + 1e-9)

export const deadlineSlackHours = (job: Orderable, nowMillis: number): number =>
  job.deadlineHours === null
    ? Number.POSITIVE_INFINITY
    : job.deadlineHours - waitedHours(job, nowMillis) - job.expectedHours

/** Negative when `a` goes before `b`. */
export const compareForQueue = (nowMillis: number, agingPointsPerHour: number) => (a: Orderable, b: Orderable): number => {
  const priority = effectivePriority(b, nowMillis, agingPointsPerHour) - effectivePriority(a, nowMillis, agingPointsPerHour)
  if (priority !== 0) return priority
  const slackA = deadlineSlackHours(a, nowMillis)
  const slackB = deadlineSlackHours(b, nowMillis)
  if (slackA !== slackB) return slackA < slackB ? -1 : 1
  if (a.submittedAtMillis !== b.submittedAtMillis) return a.submittedAtMillis - b.submittedAtMillis
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** The queue in scheduling order (a new array); each job's keys are computed once. */
export const orderQueue = <J extends Orderable>(jobs: ReadonlyArray<J>, nowMillis: number, agingPointsPerHour: number): Array<J> =>
  jobs
    .map((job) => ({ job, priority: effectivePriority(job, nowMillis, agingPointsPerHour), slack: deadlineSlackHours(job, nowMillis) }))
    .sort((a, b) =>
      b.priority - a.priority ||
      (a.slack === b.slack ? 0 : a.slack < b.slack ? -1 : 1) ||
      a.job.submittedAtMillis - b.job.submittedAtMillis ||
      (a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : 0)
    )
    .map((keyed) => keyed.job)
