/**
 * How numbers read in human output (money: `formatUsd` of `@frugal/core`, shared with the planner, reports and
 * Slack). JSON output never goes through here: it carries the raw numbers.
 */

const grouped = (value: number, fractionDigits: number): string =>
  value.toLocaleString("en-US", { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits })

/** `72.0 h`, `1,460 h`. */
export const hours = (value: number): string => (value < 100 ? `${value.toFixed(1)} h` : `${grouped(value, 0)} h`)

/** `34%`. */
export const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`

/** `80 GiB`, `22.5 GiB`, `1,128 GiB`. */
export const gib = (value: number): string =>
  value >= 100 ? `${grouped(value, 0)} GiB` : `${Number.isInteger(value) ? value : value.toFixed(1)} GiB`

/** `7B`, `1.5T`, `350M`: counts as people write them. */
export const quantity = (value: number): string => {
  const units: ReadonlyArray<readonly [number, string]> = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]]
  for (const [scale, suffix] of units) {
    if (value >= scale) return `${Number((value / scale).toPrecision(3))}${suffix}`
  }
  return `${Number(value.toPrecision(3))}`
}

/** `8.4e+20` with three significant digits, for FLOPs. */
export const scientific = (value: number): string => value.toExponential(2)

/**
 * AWS Spot Instance Advisor interruption-frequency buckets: the share of instances interrupted in
 * the last month. Source: https://aws.amazon.com/ec2/spot/instance-advisor/
 */
export const interruptionBucketLabel = (bucket: number | null): string => {
  switch (bucket) {
    case 0:
      return "<5%"
    case 1:
      return "5-10%"
    case 2:
      return "10-15%"
    case 3:
      return "15-20%"
    case 4:
      return ">20%"
    default:
      return "unknown"
  }
}

/** The lines every pricing command prints under its output: where the prices came from and when. */
export const catalogLines = (source: {
  readonly description: string
  readonly asOf: string
  readonly notes: ReadonlyArray<string>
}): ReadonlyArray<string> => [
  `Prices: ${source.description}, as of ${source.asOf}.`,
  ...source.notes.map((note) => `Note: ${note}`)
]
