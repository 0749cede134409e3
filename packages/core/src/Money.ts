/**
 * Money arithmetic shared by planner, waste and reports: USD amounts are plain numbers of dollars, rounded only
 * for display, so that sums over thousands of offers do not accumulate rounding.
 */

/** AWS bills a month as 730 hours (8,760 / 12) in its pricing pages and Cost Explorer forecasts. */
export const HOURS_PER_MONTH = 730
export const HOURS_PER_YEAR = 8760

/** Cost of running at `hourlyUsd` for `hours`. */
export const costUsd = (hourlyUsd: number, hours: number): number => hourlyUsd * hours

/** Rounds to whole cents (half away from zero), for display and for byte-stable JSON. */
export const roundUsd = (usd: number): number => {
  if (!Number.isFinite(usd) || Math.abs(usd) >= 1e15) return usd
  // Shift by decimal exponent rather than multiplying, so 1.005 (stored as 1.00499999…) rounds to 1.01 as written.
  const text = String(Math.abs(usd))
  const cents = text.includes("e") ? Math.round(Math.abs(usd) * 100) : Math.round(Number(`${text}e2`))
  return (Math.sign(usd) * cents) / 100
}

const formatter = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 })
const compact = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 })

/** `$1,234.57`; amounts of $100,000 and more without cents. */
export const formatUsd = (usd: number): string =>
  Number.isFinite(usd) ? (Math.abs(usd) >= 100_000 ? compact.format(usd) : formatter.format(usd)) : "n/a"

/** Saving of `candidateUsd` against `baselineUsd` as a fraction (0.7 = 70% cheaper); 0 when the baseline is 0. */
export const savingFraction = (baselineUsd: number, candidateUsd: number): number =>
  baselineUsd > 0 ? (baselineUsd - candidateUsd) / baselineUsd : 0

/**
 * Effective hourly rate of a commitment: the upfront payment spread over every hour of the term, plus the
 * recurring hourly fee (how AWS quotes "effective hourly" for reserved instances and savings plans).
 */
export const effectiveHourlyUsd = (upfrontUsd: number, recurringHourlyUsd: number, termYears: number): number =>
  upfrontUsd / (termYears * HOURS_PER_YEAR) + recurringHourlyUsd
