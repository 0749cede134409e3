/**
 * A team's spend in the current calendar month (UTC), from its jobs' attempts (pure). An attempt that started
 * before the month counts the share of its cost that falls inside it, in proportion to time; a running attempt
 * counts what it has accrued up to when it was last seen.
 */

export interface CostedSpan {
  readonly startedAtMillis: number
  /** Null while it runs: it counts up to `lastSeenAtMillis`. */
  readonly endedAtMillis: number | null
  readonly lastSeenAtMillis: number
  readonly costUsd: number
}

/** The first instant of the month (UTC) holding `nowMillis`. */
export const monthStartMillis = (nowMillis: number): number => {
  const now = new Date(nowMillis)
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)
}

/** The part of `span`'s cost inside [fromMillis, toMillis]. */
export const costWithinUsd = (span: CostedSpan, fromMillis: number, toMillis: number): number => {
  const end = span.endedAtMillis ?? span.lastSeenAtMillis
  if (span.costUsd === 0) return 0
  const duration = end - span.startedAtMillis
  if (duration <= 0) return span.startedAtMillis >= fromMillis && span.startedAtMillis <= toMillis ? span.costUsd : 0
  const overlap = Math.min(end, toMillis) - Math.max(span.startedAtMillis, fromMillis)
  return overlap <= 0 ? 0 : span.costUsd * Math.min(1, overlap / duration)
}

export const spentThisMonthUsd = (spans: ReadonlyArray<CostedSpan>, nowMillis: number): number => {
  const from = monthStartMillis(nowMillis)
  return spans.reduce((sum, span) => sum + costWithinUsd(span, from, nowMillis), 0)
}
