/**
 * Decoding spot traces at the boundary: the skypilot-org/spot-traces JSON
 * (`{ metadata: { gap_seconds }, data: [0|1...], prices?: [...] }`, 1 = available), a CSV
 * `timestamp,available[,price]` (the SkyNomad artifact's `date,availability` header is accepted
 * too), and a price map `{ "<zone>": [USD per hour per tick] }` (SkyNomad's `v100_spot_prices.json`).
 * Bad input fails with `InvalidInput` naming the field, line and value.
 */
import { type InputIssue, InvalidInput, inputIssuesFromSchemaIssue } from "@frugal/core"
import { parse as parseCsv } from "csv-parse/sync"
import { Effect, Exit, Schema, SchemaAST } from "effect"
import type { SpotTrace } from "./SpotTrace.ts"

const Availability = Schema.Number.check(
  Schema.makeFilter((n: number) => n === 0 || n === 1, { expected: "0 (no spot) or 1 (spot available)" })
)
const Price = Schema.Number.check(
  Schema.makeFilter((n: number) => Number.isFinite(n) && n > 0, { expected: "a price in USD per hour above 0" })
)
const TraceJson = Schema.Struct({
  metadata: Schema.Struct({
    gap_seconds: Schema.Number.check(
      Schema.makeFilter((n: number) => Number.isFinite(n) && n > 0, { expected: "seconds per tick above 0" })
    )
  }),
  data: Schema.Array(Availability),
  prices: Schema.optionalKey(Schema.Array(Price))
})
const PriceMap = Schema.Record(Schema.String, Schema.Array(Price))

const parseOptions: SchemaAST.ParseOptions = { errors: "all", onExcessProperty: "ignore" }
const decodeTraceJsonValue = Schema.decodeUnknownExit(TraceJson)
const decodePriceMapValue = Schema.decodeUnknownExit(PriceMap)

const fail = (source: string, issues: ReadonlyArray<InputIssue>) => Effect.fail(new InvalidInput({ source, issues }))

const schemaIssues = (exit: Exit.Exit<unknown, Schema.SchemaError>, fallback: string): ReadonlyArray<InputIssue> => {
  if (Exit.isSuccess(exit)) return []
  const error = Exit.findErrorOption(exit)
  const issues = error._tag === "None" ? [] : inputIssuesFromSchemaIssue(error.value.issue)
  return issues.length > 0 ? issues.slice(0, 10) : [{ path: "", expected: fallback }]
}

const parseJson = (text: string): { readonly value: unknown } | { readonly error: string } => {
  try {
    const value: unknown = JSON.parse(text)
    return { value }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
}

/** A trace name from a path: `dir/us-west-2a_v100_1.json` → `us-west-2a_v100_1`. */
export const traceNameOf = (path: string): string => {
  const base = path.split(/[\\/]/).at(-1) ?? path
  return base.replace(/\.(json|csv)$/i, "")
}

export const decodeTraceJson = (text: string, source: string): Effect.Effect<SpotTrace, InvalidInput> =>
  Effect.suspend(() => {
    const parsed = parseJson(text)
    if ("error" in parsed) return fail(source, [{ path: "", expected: "a spot-traces JSON document", actual: parsed.error }])
    const exit = decodeTraceJsonValue(parsed.value, parseOptions)
    if (!Exit.isSuccess(exit)) return fail(source, schemaIssues(exit, "a spot-traces JSON document"))
    const { metadata, data, prices } = exit.value
    if (prices !== undefined && prices.length !== data.length) {
      return fail(source, [{ path: "prices", expected: `one price per tick (${data.length})`, actual: `${prices.length} prices` }])
    }
    if (data.length < 2) return fail(source, [{ path: "data", expected: "at least 2 ticks", actual: `${data.length}` }])
    return Effect.succeed<SpotTrace>({
      name: traceNameOf(source),
      tickHours: metadata.gap_seconds / 3600,
      available: Uint8Array.from(data),
      spotPriceUsdPerHour: prices === undefined ? null : Float64Array.from(prices)
    })
  })

const parseTimestamp = (text: string): number => {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000
  // Timestamps without a zone are read as UTC: only differences matter here.
  const iso = trimmed.replace(" ", "T")
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`)
}

/**
 * A CSV trace: a header row naming `timestamp` (or `date`) and `available` (or `availability`),
 * optionally `price`, then one row per tick. The tick length is the median step between rows.
 */
export const decodeTraceCsv = (text: string, source: string): Effect.Effect<SpotTrace, InvalidInput> =>
  Effect.suspend(() => {
    let rows: Array<Array<string>>
    try {
      rows = parseCsv(text, { skip_empty_lines: true, trim: true, relax_column_count: true })
    } catch (error) {
      return fail(source, [{ path: "", expected: "CSV text", actual: error instanceof Error ? error.message : String(error) }])
    }
    const header = (rows[0] ?? []).map((cell) => cell.toLowerCase())
    const timeColumn = header.findIndex((h) => h === "timestamp" || h === "date" || h === "time")
    const availableColumn = header.findIndex((h) => h === "available" || h === "availability")
    const priceColumn = header.indexOf("price")
    if (timeColumn < 0 || availableColumn < 0) {
      return fail(source, [{ path: "line 1", expected: "a header timestamp,available[,price]", actual: (rows[0] ?? []).join(",") }])
    }
    const body = rows.slice(1)
    if (body.length < 2) return fail(source, [{ path: "", expected: "at least 2 rows after the header", actual: `${body.length}` }])
    const available = new Uint8Array(body.length)
    const prices = priceColumn >= 0 ? new Float64Array(body.length) : null
    const times = new Float64Array(body.length)
    const issues: Array<InputIssue> = []
    body.forEach((row, i) => {
      const line = `line ${i + 2}`
      const time = parseTimestamp(row[timeColumn] ?? "")
      if (!Number.isFinite(time)) issues.push({ path: `${line}.timestamp`, expected: "an ISO date-time or epoch seconds", actual: row[timeColumn] ?? "" })
      else if (i > 0 && time <= (times[i - 1] ?? 0)) issues.push({ path: `${line}.timestamp`, expected: "a time after the previous row's", actual: row[timeColumn] ?? "" })
      times[i] = time
      const flag = row[availableColumn] ?? ""
      if (flag !== "0" && flag !== "1") issues.push({ path: `${line}.available`, expected: "0 (no spot) or 1 (spot available)", actual: flag })
      available[i] = flag === "1" ? 1 : 0
      if (prices !== null) {
        const price = Number(row[priceColumn] ?? "")
        if (!(Number.isFinite(price) && price > 0)) issues.push({ path: `${line}.price`, expected: "a price in USD per hour above 0", actual: row[priceColumn] ?? "" })
        prices[i] = price
      }
    })
    if (issues.length > 0) return fail(source, issues.slice(0, 10))
    const steps = Float64Array.from({ length: body.length - 1 }, (_, i) => (times[i + 1] ?? 0) - (times[i] ?? 0)).sort()
    const medianStepMs = steps[Math.floor(steps.length / 2)] ?? 0
    return Effect.succeed<SpotTrace>({
      name: traceNameOf(source),
      tickHours: medianStepMs / 3_600_000,
      available,
      spotPriceUsdPerHour: prices
    })
  })

/** A JSON or CSV trace, by the file's extension (JSON when it has none). */
export const decodeTraceFile = (text: string, source: string): Effect.Effect<SpotTrace, InvalidInput> =>
  source.toLowerCase().endsWith(".csv") ? decodeTraceCsv(text, source) : decodeTraceJson(text, source)

/** A price map `{ "<trace name>": [USD per hour per tick] }`. */
export const decodePriceMap = (
  text: string,
  source: string
): Effect.Effect<ReadonlyMap<string, Float64Array>, InvalidInput> =>
  Effect.suspend(() => {
    const parsed = parseJson(text)
    if ("error" in parsed) return fail(source, [{ path: "", expected: "a JSON price map", actual: parsed.error }])
    const exit = decodePriceMapValue(parsed.value, parseOptions)
    if (!Exit.isSuccess(exit)) return fail(source, schemaIssues(exit, "{ \"<zone>\": [prices] }"))
    return Effect.succeed(new Map(Object.entries(exit.value).map(([zone, prices]) => [zone, Float64Array.from(prices)])))
  })

/** The trace with the prices of the same name from `prices`, when there are as many as ticks. */
export const withPrices = (trace: SpotTrace, prices: ReadonlyMap<string, Float64Array>): SpotTrace => {
  const own = prices.get(trace.name)
  return own !== undefined && own.length === trace.available.length ? { ...trace, spotPriceUsdPerHour: own } : trace
}

/** A file's path and text, read by the caller (the planner does no I/O). */
export interface TraceText {
  readonly path: string
  readonly text: string
}

/** Price maps are recognised by name: `…prices.json` or `…price.json`. */
export const isPriceMapPath = (path: string): boolean => /prices?\.json$/i.test(path)

/**
 * Every trace among `files` (JSON and CSV), with the per-tick prices of any price map among them
 * attached to the traces of the same name. Sorted by name.
 */
export const decodeTraceFiles = (
  files: ReadonlyArray<TraceText>
): Effect.Effect<ReadonlyArray<SpotTrace>, InvalidInput> =>
  Effect.gen(function*() {
    const priceMaps = yield* Effect.forEach(files.filter((f) => isPriceMapPath(f.path)), (f) => decodePriceMap(f.text, f.path))
    const prices = new Map(priceMaps.flatMap((map) => [...map.entries()]))
    const traces = yield* Effect.forEach(files.filter((f) => !isPriceMapPath(f.path)), (f) => decodeTraceFile(f.text, f.path))
    return traces.map((trace) => withPrices(trace, prices)).sort((a, b) => a.name.localeCompare(b.name))
  })
