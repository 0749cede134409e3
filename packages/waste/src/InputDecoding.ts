/**
 * Turns Schema failures on a user's file into `InvalidInput` naming each field path, the value and
 * what was expected: the one place where raw JSON (files, SDK responses) becomes trusted data.
 */
import { inputIssuesFromSchemaIssue, InvalidInput } from "@frugal/core"
import { Effect, Schema } from "effect"

/** Decodes `input` with `schema`; failures become `InvalidInput` from `source` (a file name or an API). */
export const decodeInput = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, source: string) => {
  // Every issue, with the offending value; AWS adds fields over time, so unknown keys are fine.
  const decode = Schema.decodeUnknownEffect(schema, { errors: "all", reportInput: true })
  return (input: unknown): Effect.Effect<S["Type"], InvalidInput> =>
    decode(input).pipe(Effect.mapError((error) => new InvalidInput({ source, issues: inputIssuesFromSchemaIssue(error.issue) })))
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
