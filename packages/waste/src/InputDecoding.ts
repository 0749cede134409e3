/**
 * Turns Schema failures on a user's file into `InvalidInput` naming each field path, the value and
 * what was expected: the one place where raw JSON (files, SDK responses) becomes trusted data.
 */
import { InvalidInput, type InputIssue } from "@frugal/core"
import { Effect, Schema, SchemaIssue } from "effect"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** `["ResultsByTime", 3, "Groups", 0, "Keys"]` → `ResultsByTime[3].Groups[0].Keys`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (text, key) => typeof key === "number" ? `${text}[${key}]` : text === "" ? String(key) : `${text}.${String(key)}`,
    ""
  )

const toIssues = (error: Schema.SchemaError): ReadonlyArray<InputIssue> =>
  formatter(error.issue).issues.map((issue) => {
    const match = /^Expected (.*?)(?:, got (.*))?$/s.exec(issue.message)
    const path = formatPath((issue.path ?? []).map((segment) => typeof segment === "object" ? segment.key : segment))
    if (match === null) return { path, expected: issue.message }
    return match[2] === undefined
      ? { path, expected: match[1] ?? issue.message }
      : { path, expected: match[1] ?? issue.message, actual: match[2] }
  })

/** Decodes `input` with `schema`; failures become `InvalidInput` from `source` (a file name or an API). */
export const decodeInput = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, source: string) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (input: unknown): Effect.Effect<S["Type"], InvalidInput> =>
    decode(input).pipe(Effect.mapError((error) => new InvalidInput({ source, issues: toIssues(error) })))
}

/** Parses JSON text; a syntax error is an `InvalidInput` on the whole document. */
export const parseJson = (text: string, source: string): Effect.Effect<unknown, InvalidInput> =>
  Effect.try({
    try: (): unknown => JSON.parse(text),
    catch: (error) =>
      new InvalidInput({
        source,
        issues: [{ path: "", expected: "a JSON document", actual: error instanceof Error ? error.message : String(error) }]
      })
  })

export const invalid = (source: string, path: string, expected: string, actual?: string): InvalidInput =>
  new InvalidInput({ source, issues: [actual === undefined ? { path, expected } : { path, expected, actual }] })
