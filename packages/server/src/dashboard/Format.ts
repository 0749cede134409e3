/**
 * Numbers with their units, as the dashboard prints them. Dates are not formatted here: pages carry ISO instants in
 * `<time datetime>` and the browser writes them in the reader's own time zone and language (assets/dashboard.js).
 */

const USD_CENTS = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 })
const USD_SMALL = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 4, maximumFractionDigits: 4 })
const NUMBER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 })

/** `$1,234.56`; amounts under a cent keep four decimals (`$0.0042`) so a cheap CPU job does not read as free. */
export const usd = (amount: number): string => (amount !== 0 && Math.abs(amount) < 0.01 ? USD_SMALL : USD_CENTS).format(amount)

export const count = (n: number, unit: string, plural = `${unit}s`): string => `${NUMBER.format(n)} ${n === 1 ? unit : plural}`

export const hours = (value: number): string => (value < 1 ? `${NUMBER.format(value * 60)} min` : `${NUMBER.format(value)} h`)

export const bytes = (value: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let scaled = value
  let unit = 0
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024
    unit++
  }
  return `${NUMBER.format(scaled)} ${units[unit] ?? "B"}`
}

export const percent = (fraction: number): string => `${NUMBER.format(fraction * 100)} %`

export const iso = (millis: number): string => new Date(millis).toISOString()
