/**
 * Upper and lower bounds for numeric flags, checked when the flag is parsed: an absurd value (`--price-per-hour
 * 1e308`, `--grace-seconds 1e12`) is bad input (exit 2, naming the flag and the range), never a cost of Infinity
 * or a timer that overflows to one millisecond.
 */
import * as Flag from "effect/cli/Flag"

/** `flag` accepts only values from `minimum` to `maximum`, inclusive; `what` names the unit in the message. */
export const within = (name: string, minimum: number, maximum: number, what: string) => <A extends number>(flag: Flag.Flag<A>): Flag.Flag<A> =>
  flag.pipe(
    Flag.filter(
      (value: A) => value >= minimum && value <= maximum,
      (value: A) => `--${name}: expected ${what} from ${minimum} to ${maximum.toLocaleString("en-US")}, got ${value}`
    )
  )

/** The dearest GPU instance lists at about $140 an hour; ten thousand a machine-hour is no real price. */
export const MAX_USD_PER_HOUR = 10_000
