/**
 * `--catalog PATH`: a user's own rates (negotiated prices, another provider's quotes, a spreadsheet export)
 * as a `PriceCatalog`. JSON or CSV, decoded once with Schema; every bad field is reported with its row and
 * column (exit 2). Instance types come from the embedded snapshot unless the JSON file describes them.
 * Account pricing (`pricing.yaml`) and query filtering go through the same code as the live catalog.
 *
 * CSV header (order free; the last six columns optional):
 *   instanceType,region,purchaseOption,hourlyPriceUsd,availabilityZone,termYears,paymentOption,offeringClass,upfrontUsd,recurringHourlyUsd
 * JSON: `{ "asOf": "2026-11-01", "description": "…", "offers": [{ "instanceType": …, … }], "instanceTypes": [...] }`
 */
import { parse as parseCsv } from "csv-parse/sync"
import { Effect, Exit, Layer, Option, Schema } from "effect"
import { type InputIssue, inputIssuesFromSchemaIssue, InstanceType, InvalidInput, type Offer, PurchaseOption, regionalOffer, strictParseOptions } from "@frugal/core"
import { readInputFile } from "@frugal/core/io"
import { type AccountPricing, accountPricedCatalog } from "./AccountPricing.ts"
import { filterCatalog } from "./CatalogFilter.ts"
import { catalog as embeddedCatalog } from "./EmbeddedCatalog.ts"
import { type Catalog, type CatalogQuery, PriceCatalog } from "./PriceCatalog.ts"

const NonNegativeUsd = Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ expected: "a price in USD, 0 or more" })

export const FileOffer = Schema.Struct({
  instanceType: Schema.String,
  region: Schema.String,
  purchaseOption: PurchaseOption,
  hourlyPriceUsd: NonNegativeUsd,
  availabilityZone: Schema.optionalKey(Schema.NullOr(Schema.String)),
  termYears: Schema.optionalKey(Schema.Literals([1, 3])),
  paymentOption: Schema.optionalKey(Schema.Literals(["no-upfront", "partial-upfront", "all-upfront"])),
  offeringClass: Schema.optionalKey(Schema.Literals(["standard", "convertible", "compute-savings-plan", "instance-savings-plan"])),
  upfrontUsd: Schema.optionalKey(NonNegativeUsd),
  recurringHourlyUsd: Schema.optionalKey(NonNegativeUsd)
})
export type FileOffer = typeof FileOffer.Type

export const CatalogFile = Schema.Struct({
  asOf: Schema.optionalKey(Schema.String),
  description: Schema.optionalKey(Schema.String),
  offers: Schema.Array(FileOffer),
  instanceTypes: Schema.optionalKey(Schema.Array(InstanceType))
})
export type CatalogFile = typeof CatalogFile.Type

const decodeCatalogFile = Schema.decodeUnknownExit(CatalogFile)

const invalid = (source: string, issues: ReadonlyArray<InputIssue>) => new InvalidInput({ source, issues })

/** CSV cells are text: numbers and empty cells are converted before the Schema sees them. */
const csvRow = (row: Readonly<Record<string, string>>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, cell] of Object.entries(row)) {
    const text = cell.trim()
    if (text === "") continue
    const numeric = ["hourlyPriceUsd", "termYears", "upfrontUsd", "recurringHourlyUsd"].includes(key)
    out[key] = numeric && /^-?[0-9.]+(e-?[0-9]+)?$/i.test(text) ? Number(text) : text
  }
  return out
}

const isCsv = (path: string, text: string) => path.toLowerCase().endsWith(".csv") || !/^\s*[{[]/.test(text)

/** Decodes a catalog file's text. */
export const parseCatalogFile = (text: string, path: string): Effect.Effect<CatalogFile, InvalidInput> =>
  Effect.suspend(() => {
    let value: unknown
    try {
      if (isCsv(path, text)) {
        const rows: Array<Record<string, string>> = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true })
        value = { offers: rows.map(csvRow) }
      } else {
        value = JSON.parse(text)
      }
    } catch (error) {
      return Effect.fail(invalid(path, [{
        path: "",
        expected: "a JSON catalog or a CSV with an instanceType,region,purchaseOption,hourlyPriceUsd header",
        actual: error instanceof Error ? error.message.split("\n")[0] ?? "" : String(error)
      }]))
    }
    const exit = decodeCatalogFile(value, strictParseOptions)
    if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
    const error = Exit.findErrorOption(exit)
    return Effect.fail(invalid(path, Option.isSome(error) ? inputIssuesFromSchemaIssue(error.value.issue) : [{ path: "", expected: "a catalog" }]))
  })

/** A file's offers as a `Catalog` (pure), checking that every instance type is known. */
export const catalogFromFile = (file: CatalogFile, path: string, embedded: Catalog): Effect.Effect<Catalog, InvalidInput> =>
  Effect.suspend(() => {
    const types = new Map(embedded.instanceTypes.map((type) => [type.name, type]))
    for (const type of file.instanceTypes ?? []) types.set(type.name, type)
    const issues: Array<InputIssue> = []
    const offers: Array<Offer> = []
    file.offers.forEach((row, index) => {
      if (!types.has(row.instanceType)) {
        issues.push({ path: `offers[${index}].instanceType`, expected: "an accelerator instance type Frugal knows, or one described under instanceTypes", actual: row.instanceType })
        return
      }
      const commitment = row.purchaseOption === "reserved" || row.purchaseOption === "savings-plan"
      if (commitment && (row.termYears === undefined || row.paymentOption === undefined)) {
        issues.push({ path: `offers[${index}].termYears`, expected: "termYears and paymentOption for a reserved or savings-plan rate" })
        return
      }
      const term = commitment && row.termYears !== undefined && row.paymentOption !== undefined
        ? {
          years: row.termYears,
          paymentOption: row.paymentOption,
          offeringClass: row.offeringClass ?? (row.purchaseOption === "reserved" ? "standard" : "compute-savings-plan"),
          upfrontUsd: row.upfrontUsd ?? 0,
          recurringHourlyUsd: row.recurringHourlyUsd ?? row.hourlyPriceUsd
        } as const
        : null
      offers.push(regionalOffer(row.instanceType, row.region, row.purchaseOption, row.hourlyPriceUsd, {
        availabilityZone: row.availabilityZone ?? null,
        term
      }))
    })
    if (issues.length > 0) return Effect.fail(invalid(path, issues))
    // Spot rows get the advisor's interruption bucket where the snapshot knows the type and region.
    const bucket = new Map<string, number>()
    for (const offer of embedded.offers) {
      if (offer.purchaseOption === "spot" && offer.interruptionBucket !== null) bucket.set(`${offer.instanceType}|${offer.region}`, offer.interruptionBucket)
    }
    const withBuckets = offers.map((offer) =>
      offer.purchaseOption === "spot" ? { ...offer, interruptionBucket: bucket.get(`${offer.instanceType}|${offer.region}`) ?? null } : offer
    )
    const used = new Set(withBuckets.map((offer) => offer.instanceType))
    return Effect.succeed({
      source: {
        kind: "file",
        asOf: file.asOf ?? "unknown",
        description: file.description ?? `the user's catalog file ${path}`,
        notes: [`Prices from ${path}, not from AWS; only the offers the file lists are considered.`]
      },
      instanceTypes: [...types.values()].filter((type) => used.has(type.name)),
      offers: withBuckets
    })
  })

/** Reads and decodes `path` once, when the layer is built. */
export const layer = (
  path: string,
  accountPricing?: { readonly path: string; readonly pricing: AccountPricing }
): Layer.Layer<PriceCatalog, InvalidInput> =>
  Layer.effect(
    PriceCatalog,
    Effect.gen(function*() {
      const text = yield* readInputFile(path, { kind: "catalog", flag: "--catalog" })
      const file = yield* parseCatalogFile(text, path)
      const base = yield* catalogFromFile(file, path, embeddedCatalog())
      const service = PriceCatalog.of({ catalog: (query?: CatalogQuery) => Effect.succeed(filterCatalog(base, query)) })
      return accountPricing === undefined ? service : accountPricedCatalog(service, accountPricing)
    })
  )
