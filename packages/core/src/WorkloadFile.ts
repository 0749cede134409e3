/**
 * A workload file: YAML or JSON text holding one workload or `workloads: [...]`. Decoding takes text (the core does
 * no I/O) and fails with one `InvalidInput` listing every problem found, each with its field path.
 */
import { Effect, Exit, Schema } from "effect"
import { parseDocument } from "yaml"
import { type InputIssue, InvalidInput } from "./Errors.ts"
import { inputIssuesFromSchemaIssue, showValue, strictParseOptions } from "./SchemaIssues.ts"
import { Fleet, Workload } from "./Workload.ts"

export type WorkloadFile =
  | { readonly kind: "single"; readonly workload: Workload }
  | { readonly kind: "fleet"; readonly workloads: ReadonlyArray<Workload> }

/** Largest file accepted: a workload spec is a few hundred bytes; a fleet of 10,000 is a few MB. */
const MAX_BYTES = 64 * 1024 * 1024
/** Aliases a file may expand: small, so that an alias bomb ("billion laughs") fails at once. */
const MAX_ALIAS_COUNT = 100

const decodeSingle = Schema.decodeUnknownExit(Workload)
const decodeFleet = Schema.decodeUnknownExit(Fleet)

export const looksBinary = (text: string): boolean => {
  // NUL bytes and U+FFFD (what a UTF-8 decoder leaves for invalid bytes) do not occur in a hand-written spec.
  const sample = text.slice(0, 8192)
  return sample.includes("\u0000") || sample.includes("\uFFFD")
}

const fail = (source: string, issues: ReadonlyArray<InputIssue>) => Effect.fail(new InvalidInput({ source, issues }))

/**
 * The first key that appears twice in one object of a valid JSON text, or undefined. `JSON.parse` keeps the last
 * duplicate silently; this scan (run only after `JSON.parse` accepted the text) restores the YAML parser's check.
 */
const duplicateJsonKey = (text: string): string | undefined => {
  const objects: Array<Set<string> | null> = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "{") objects.push(new Set())
    else if (c === "[") objects.push(null)
    else if (c === "}" || c === "]") objects.pop()
    else if (c === "\"") {
      let end = i + 1
      while (end < text.length && text[end] !== "\"") end += text[end] === "\\" ? 2 : 1
      let next = end + 1
      while (next < text.length && " \t\r\n".includes(text[next] ?? "")) next++
      const keys = objects.at(-1)
      if (text[next] === ":" && keys !== undefined && keys !== null) {
        const key = String(JSON.parse(text.slice(i, end + 1)))
        if (keys.has(key)) return key
        keys.add(key)
      }
      i = end
    }
  }
  return undefined
}

/** JSON text parsed natively (much faster than the YAML parser on large fleets), or undefined when it is not JSON. */
const parseJson = (text: string): { readonly value: unknown } | { readonly issues: ReadonlyArray<InputIssue> } | undefined => {
  const first = text.trimStart()[0]
  if (first !== "{" && first !== "[") return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined // YAML flow syntax, or broken JSON: the YAML parser reports it with a line and column
  }
  const duplicate = duplicateJsonKey(text)
  return duplicate === undefined
    ? { value }
    : { issues: [{ path: "", expected: "a mapping without duplicate keys", actual: `${showValue(duplicate)} appears twice` }] }
}

/** Parses JSON natively or YAML (of which JSON is a subset) into plain data, or the list of syntax problems. */
export const parseText = (text: string): { readonly value: unknown } | { readonly issues: ReadonlyArray<InputIssue> } => {
  const json = parseJson(text)
  if (json !== undefined) return json
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true, version: "1.2" })
  if (document.errors.length > 0) {
    return {
      issues: document.errors.map((error) => {
        const what = error.code === "DUPLICATE_KEY" ? "a mapping without duplicate keys" : "valid YAML or JSON"
        return { path: "", expected: what, actual: showValue((error.message.split("\n")[0] ?? "").replace(/:$/, ""), 160) }
      })
    }
  }
  try {
    return { value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return {
      issues: [{
        path: "",
        expected: `a document with at most ${MAX_ALIAS_COUNT} alias expansions`,
        actual: showValue(message, 120)
      }]
    }
  }
}

const isMapping = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Decodes the text of a workload file. `sourceName` (a path, `stdin`) only labels the error.
 * Fails with `InvalidInput` listing every issue: syntax, unknown keys, wrong types, out-of-range numbers.
 */
export const decodeWorkloadFile = (text: string, sourceName: string): Effect.Effect<WorkloadFile, InvalidInput> =>
  Effect.suspend(() => {
    if (text.length > MAX_BYTES) {
      return fail(sourceName, [{ path: "", expected: `a file of at most ${MAX_BYTES / 1024 / 1024} MiB`, actual: `${text.length} characters` }])
    }
    if (text.trim() === "") {
      return fail(sourceName, [{ path: "", expected: "a workload (name, kind, ...) or workloads: [...]", actual: "an empty file" }])
    }
    if (looksBinary(text)) {
      return fail(sourceName, [{ path: "", expected: "a UTF-8 text file in YAML or JSON", actual: "binary data" }])
    }
    const parsed = parseText(text)
    if ("issues" in parsed) return fail(sourceName, parsed.issues)
    const value = parsed.value
    if (!isMapping(value)) {
      return fail(sourceName, [{
        path: "",
        expected: "a mapping: one workload (name, kind, ...) or workloads: [...]",
        actual: Array.isArray(value) ? "a list" : showValue(value)
      }])
    }
    if ("workloads" in value) {
      const exit = decodeFleet(value, strictParseOptions)
      return Exit.isSuccess(exit)
        ? Effect.succeed<WorkloadFile>({ kind: "fleet", workloads: exit.value.workloads })
        : fail(sourceName, issuesOf(exit))
    }
    const exit = decodeSingle(value, strictParseOptions)
    return Exit.isSuccess(exit)
      ? Effect.succeed<WorkloadFile>({ kind: "single", workload: exit.value })
      : fail(sourceName, issuesOf(exit))
  })

const issuesOf = (exit: Exit.Exit<unknown, Schema.SchemaError>): ReadonlyArray<InputIssue> => {
  if (Exit.isSuccess(exit)) return []
  const error = Exit.findErrorOption(exit)
  if (error._tag === "None") return [{ path: "", expected: "a valid workload" }]
  const issues = inputIssuesFromSchemaIssue(error.value.issue)
  return issues.length > 0 ? issues : [{ path: "", expected: "a valid workload" }]
}

/** The workloads of a file, single or fleet. */
export const workloadsOf = (file: WorkloadFile): ReadonlyArray<Workload> =>
  file.kind === "single" ? [file.workload] : file.workloads
