/**
 * The SDK names a request's fields as a program does (`computeHours`); on the command line they are flags
 * (`--compute-hours`). An `InvalidInput` from the SDK is rewritten here so the CLI's message names the flag the
 * user typed: each issue's path, the source, and any mention of a field in the expected text.
 */
import * as Effect from "effect/Effect"
import { InvalidInput } from "@frugal/core"

const kebab = (field: string): string => field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)

/** `--compute-hours` for `computeHours`, unless `renamed` names another flag for it. */
export const flagOf = (field: string, renamed: Readonly<Record<string, string>> = {}): string => renamed[field] ?? `--${kebab(field)}`

/**
 * The error with the fields in `fields` (SDK name → flag, or the kebab-case default) named as flags: an issue's path or
 * the source when it is exactly a field (a list of fields for the source), and a camelCase field where the expected
 * text mentions it (`at least computeHours + restartHours`). A file's path in an issue is left as it is.
 */
export const asFlagError = (error: InvalidInput, fields: ReadonlyArray<string>, renamed: Readonly<Record<string, string>> = {}): InvalidInput => {
  const exact = (text: string): string => (fields.includes(text) ? flagOf(text, renamed) : text)
  const mentions = (text: string): string =>
    fields.filter((field) => /[A-Z]/.test(field)).reduce(
      (current, field) => current.replace(new RegExp(`(?<![\\w-])${field}(?![\\w-])`, "g"), flagOf(field, renamed)),
      text
    )
  const issues = error.issues.map((issue) => ({ ...issue, path: exact(issue.path), expected: mentions(issue.expected) }))
  return new InvalidInput({ source: error.source.split(", ").map(exact).join(", "), issues })
}

/** `effect` with its `InvalidInput` named in flags. */
export const withFlagNames = (fields: ReadonlyArray<string>, renamed: Readonly<Record<string, string>> = {}) =>
<A, E, R>(effect: Effect.Effect<A, E | InvalidInput, R>): Effect.Effect<A, E | InvalidInput, R> =>
  Effect.mapError(effect, (error): E | InvalidInput => (error instanceof InvalidInput ? asFlagError(error, fields, renamed) : error))
