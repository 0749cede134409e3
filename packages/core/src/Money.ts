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

/**
 * How a USD figure reads in text: plan reasons, CLI tables, reports, Slack messages. The one rule set:
 * `-` before the `$` for a negative figure, thousands grouped with `,` (en-US, whatever the machine's locale),
 * `n/a` for a figure that is not finite; and the decimals by what the figure is:
 * - `amount` (the default; reasons, reports, bills): cents (`$1,234.57`), whole dollars from $100,000;
 * - `glance` (table cells and one-line summaries, where columns are scanned): `$0` for zero, three decimals below $1
 *   (`$0.526`), cents below $100 (`$12.24`), whole dollars from $100 (`$1,234`);
 * - `rate` (an hourly price as AWS quotes it): cents, and up to four decimals where they are not zeros (`$0.5261`,
 *   `$6.60`).
 * Written without `Intl` (the same text as `Intl.NumberFormat("en-US", { style: "currency" })` for amounts): it is
 * the slowest step when a fleet of thousands writes its reasons.
 */
export type UsdStyle = "amount" | "glance" | "rate"

const decimalsFor = (abs: number, style: UsdStyle): number => {
  switch (style) {
    case "amount":
      return abs >= 100_000 ? 0 : 2
    case "glance":
      return abs < 1 ? 3 : abs < 100 ? 2 : 0
    case "rate":
      return 4
  }
}

export const formatUsd = (usd: number, style: UsdStyle = "amount"): string => {
  if (!Number.isFinite(usd)) return "n/a"
  if (usd === 0 && style === "glance") return "$0"
  const abs = Math.abs(usd)
  let fixed = abs.toFixed(decimalsFor(abs, style))
  // A rate keeps its third and fourth decimals only where they say something.
  if (style === "rate") fixed = fixed.replace(/(\.\d\d\d?)0$/, "$1").replace(/(\.\d\d)0$/, "$1")
  const [whole = "0", decimals] = fixed.split(".")
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  const sign = usd < 0 ? "-" : ""
  return `${sign}$${grouped}${decimals === undefined ? "" : `.${decimals}`}`
}

/** An hourly price: `$0.5261/h`, `$55.04/h` (`rate` style unless told). */
export const formatUsdPerHour = (usd: number, style: UsdStyle = "rate"): string => `${formatUsd(usd, style)}/h`

/** Saving of `candidateUsd` against `baselineUsd` as a fraction (0.7 = 70% cheaper); 0 when the baseline is 0. */
export const savingFraction = (baselineUsd: number, candidateUsd: number): number =>
  baselineUsd > 0 ? (baselineUsd - candidateUsd) / baselineUsd : 0

/**
 * Effective hourly rate of a commitment: the upfront payment spread over every hour of the term, plus the
 * recurring hourly fee (how AWS quotes "effective hourly" for reserved instances and savings plans).
 */
export const effectiveHourlyUsd = (upfrontUsd: number, recurringHourlyUsd: number, termYears: number): number =>
  upfrontUsd / (termYears * HOURS_PER_YEAR) + recurringHourlyUsd
