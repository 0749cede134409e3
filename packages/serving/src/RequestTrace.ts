/**
 * Request traces at the boundary, decoded with Schema row by row (errors name the line and column):
 * - the Azure LLM inference trace format, one row per request: `TIMESTAMP,ContextTokens,GeneratedTokens`
 *   (packages/serving/data/request-traces); binned into minutes from the first request's minute;
 * - per-minute counts: `minute,requests` with optional `contextTokens,generatedTokens` (mean tokens per request
 *   in that minute); minutes are whole numbers in increasing order, a missing minute has no requests.
 * Both give requests per minute, and the mean request mix when the file has token columns.
 */
import { type InputIssue, InvalidInput, inputIssuesFromSchemaIssue } from "@frugal/core"
import { parse as parseCsv } from "csv-parse/sync"
import { Effect, Exit, Schema, SchemaIssue, SchemaTransformation } from "effect"
import type { RequestMix } from "./Capacity.ts"

export interface RequestTrace {
  readonly source: string
  readonly format: "azure" | "counts"
  /** Requests arriving in each minute of the recorded span. */
  readonly requestsPerMinute: Float64Array
  /** Mean tokens per request, when the file records them. */
  readonly mix: RequestMix | null
  readonly requests: number
}

/** At most this many minutes (a year) and rows: anything larger is not a request trace for this simulator. */
const MAX_MINUTES = 366 * 24 * 60
const MAX_ROWS = 20_000_000
const MAX_ISSUES = 10

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/

/** A CSV cell holding a number that passes `check`; the message shows the cell as written. */
const fromDigits = (expected: string, check: (n: number) => boolean) =>
  Schema.String.pipe(
    Schema.decodeTo(
      Schema.Finite,
      SchemaTransformation.transformEffect({
        decode: (text: string, options) => {
          const value = NUMBER.test(text) ? Number(text) : Number.NaN
          return Number.isFinite(value) && check(value)
            ? Effect.succeed(value)
            : Effect.fail(new SchemaIssue.InvalidValue({ expected }, text, options))
        },
        encode: (value: number) => Effect.succeed(String(value))
      })
    )
  ).annotate({ expected })

const Count = fromDigits("a whole number of tokens, 0 or more", (n) => Number.isInteger(n) && n >= 0 && n <= 10_000_000)
const Requests = fromDigits("a number of requests, 0 or more", (n) => n >= 0 && n <= 1e9)
const Minute = fromDigits(`a whole minute number from 0 to ${MAX_MINUTES - 1}`, (n) => Number.isInteger(n) && n >= 0 && n < MAX_MINUTES)
const Mean = fromDigits("a mean number of tokens, 0 or more", (n) => n >= 0 && n <= 10_000_000)

const Timestamp = Schema.String.check(
  Schema.makeFilter((text: string) => Number.isFinite(parseTimestampMs(text)), {
    expected: "a date-time like 2023-11-16 18:17:03.97 (UTC when no zone is given)"
  })
)

const AzureRow = Schema.Struct({ timestamp: Timestamp, contextTokens: Count, generatedTokens: Count })
const CountsRow = Schema.Struct({
  minute: Minute,
  requests: Requests,
  contextTokens: Schema.optionalKey(Mean),
  generatedTokens: Schema.optionalKey(Mean)
})

/** Milliseconds since the epoch; NaN when the text is not a date-time. Timestamps without a zone are UTC. */
export const parseTimestampMs = (text: string): number => {
  const iso = text.trim().replace(" ", "T")
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([zZ]|[+-]\d\d:?\d\d)?$/.test(iso)) return Number.NaN
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`)
}

const fail = (source: string, issues: ReadonlyArray<InputIssue>) => Effect.fail(new InvalidInput({ source, issues }))

const decodeRow = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  row: Record<string, string>,
  line: number,
  columns: Readonly<Record<string, string>>,
  issues: Array<InputIssue>
): S["Type"] | undefined => {
  const exit = Schema.decodeUnknownExit(schema)(row, { errors: "all", reportInput: true })
  if (Exit.isSuccess(exit)) return exit.value
  const error = Exit.findErrorOption(exit)
  if (error._tag === "Some") {
    for (const issue of inputIssuesFromSchemaIssue(error.value.issue)) {
      // Paths name the column as the file spells it.
      if (issues.length < MAX_ISSUES) issues.push({ ...issue, path: `line ${line}.${columns[issue.path] ?? issue.path}` })
    }
  }
  return undefined
}

const AZURE_COLUMNS = { timestamp: "timestamp", contexttokens: "contextTokens", generatedtokens: "generatedTokens" } as const
const COUNT_COLUMNS = { minute: "minute", requests: "requests", contexttokens: "contextTokens", generatedtokens: "generatedTokens" } as const

/** Decodes a request trace CSV; `source` names it in errors (a path or `--requests`). */
export const decodeRequestTrace = (text: string, source: string): Effect.Effect<RequestTrace, InvalidInput> =>
  Effect.suspend(() => {
    let rows: Array<Array<string>>
    try {
      rows = parseCsv(text, { skip_empty_lines: true, trim: true, relax_column_count: true, to: MAX_ROWS + 1 })
    } catch (error) {
      return fail(source, [{ path: "", expected: "CSV text", actual: error instanceof Error ? error.message : String(error) }])
    }
    const header = (rows[0] ?? []).map((cell) => cell.toLowerCase())
    const azure = header.includes("timestamp") && header.includes("contexttokens") && header.includes("generatedtokens")
    const counts = header.includes("minute") && header.includes("requests")
    if (!azure && !counts) {
      return fail(source, [{
        path: "line 1",
        expected: "a header TIMESTAMP,ContextTokens,GeneratedTokens (one row per request) or minute,requests (per-minute counts)",
        actual: (rows[0] ?? []).join(",")
      }])
    }
    const names: Readonly<Record<string, string>> = azure ? AZURE_COLUMNS : COUNT_COLUMNS
    const body = rows.slice(1)
    if (body.length === 0) return fail(source, [{ path: "", expected: "at least one row after the header", actual: "none" }])
    const issues: Array<InputIssue> = []
    const columns: Record<string, string> = {}
    header.forEach((column, c) => {
      const name = names[column]
      if (name !== undefined) columns[name] = rows[0]?.[c] ?? column
    })
    const records = body.map((cells, i) => {
      const record: Record<string, string> = {}
      header.forEach((column, c) => {
        const name = names[column]
        const cell = cells[c]
        if (name !== undefined && cell !== undefined && cell !== "") record[name] = cell
      })
      return { record, line: i + 2 }
    })
    return azure ? azureTrace(records, columns, source, issues) : countsTrace(records, columns, source, issues)
  })

type Records = ReadonlyArray<{ readonly record: Record<string, string>; readonly line: number }>

const azureTrace = (records: Records, columns: Readonly<Record<string, string>>, source: string, issues: Array<InputIssue>) => {
  const times: Array<number> = []
  let context = 0
  let generated = 0
  for (const { record, line } of records) {
    const row = decodeRow(AzureRow, record, line, columns, issues)
    if (row === undefined) continue
    times.push(parseTimestampMs(row.timestamp))
    context += row.contextTokens
    generated += row.generatedTokens
  }
  if (issues.length > 0) return fail(source, issues)
  // Minutes are counted from the first request, and a last minute the recording did not cover whole is dropped:
  // a partial minute would read as a dip in the load each time the trace is repeated.
  const start = Math.min(...times)
  const span = Math.max(...times) - start
  const whole = Math.max(1, Math.floor(span / 60_000))
  if (whole > MAX_MINUTES) {
    return fail(source, [{ path: columns["timestamp"] ?? "TIMESTAMP", expected: "requests spanning at most a year", actual: `${whole} minutes` }])
  }
  const perMinute = new Float64Array(whole)
  let kept = 0
  for (const time of times) {
    const m = Math.floor((time - start) / 60_000)
    if (m >= whole) continue
    perMinute[m] = (perMinute[m] ?? 0) + 1
    kept++
  }
  return Effect.succeed<RequestTrace>({
    source,
    format: "azure",
    requestsPerMinute: perMinute,
    mix: { contextTokens: context / times.length, generatedTokens: generated / times.length },
    requests: kept
  })
}

const countsTrace = (records: Records, columns: Readonly<Record<string, string>>, source: string, issues: Array<InputIssue>) => {
  const minutes: Array<number> = []
  const requests: Array<number> = []
  let context = 0
  let generated = 0
  let tokenRows = 0
  let weighted = 0
  let previous = -1
  for (const { record, line } of records) {
    const row = decodeRow(CountsRow, record, line, columns, issues)
    if (row === undefined) continue
    if (row.minute <= previous && issues.length < MAX_ISSUES) {
      issues.push({ path: `line ${line}.${columns["minute"] ?? "minute"}`, expected: `a minute after the previous row's (${previous})`, actual: String(row.minute) })
    }
    previous = row.minute
    minutes.push(row.minute)
    requests.push(row.requests)
    const hasTokens = row.contextTokens !== undefined && row.generatedTokens !== undefined
    if (hasTokens) {
      context += (row.contextTokens ?? 0) * row.requests
      generated += (row.generatedTokens ?? 0) * row.requests
      weighted += row.requests
      tokenRows++
    }
  }
  if (issues.length > 0) return fail(source, issues)
  if (tokenRows > 0 && tokenRows < minutes.length) {
    return fail(source, [{ path: "contextTokens", expected: "token columns on every row or on none", actual: `${tokenRows} of ${minutes.length} rows` }])
  }
  const first = minutes[0] ?? 0
  const perMinute = new Float64Array((minutes.at(-1) ?? 0) - first + 1)
  minutes.forEach((minute, i) => {
    perMinute[minute - first] = requests[i] ?? 0
  })
  const total = requests.reduce((a, b) => a + b, 0)
  if (!(total > 0)) return fail(source, [{ path: "requests", expected: "at least one request in the trace", actual: "0" }])
  return Effect.succeed<RequestTrace>({
    source,
    format: "counts",
    requestsPerMinute: perMinute,
    mix: tokenRows > 0 && weighted > 0 ? { contextTokens: context / weighted, generatedTokens: generated / weighted } : null,
    requests: total
  })
}
