/**
 * The offline price source: the AWS GPU snapshot generated into `data/embedded-catalog.json`
 * (`scripts/generate-catalog.ts`, docs/catalog.md). It serves on-demand prices per region, spot prices per AZ
 * with the Spot Instance Advisor's interruption bucket, and reserved / savings-plan rates modelled from
 * published discount levels (`CommitmentModel`, every one marked `priceIsEstimate`).
 *
 *   Effect.provide(program, EmbeddedCatalog.layer)
 */
import { type InstanceType, type Offer, regionalOffer } from "@frugal/core"
import { Effect, Layer, Predicate, Schema } from "effect"
import snapshotJson from "../data/embedded-catalog.json" with { type: "json" }
import { filterCatalog } from "./CatalogFilter.ts"
import { modelledCommitmentOffers } from "./CommitmentModel.ts"
import { EmbeddedSnapshot, type SnapshotPriceRow } from "./EmbeddedSnapshot.ts"
import { type Catalog, type CatalogQuery, PriceCatalog, PriceCatalogError } from "./PriceCatalog.ts"

/** Everything but the price rows, decoded with the Schema (small). */
const SnapshotHead = EmbeddedSnapshot.mapFields(({ prices: _prices, ...rest }) => rest)

/**
 * Price rows are checked by hand on the start-up path: a Schema decode of ~900 rows and ~2,300 zone tuples
 * costs several milliseconds, this loop a fraction of one. The test suite decodes the whole file with
 * `EmbeddedSnapshot` to prove the format.
 */
const checkPriceRows = (rows: unknown): ReadonlyArray<SnapshotPriceRow> | string => {
  if (!Array.isArray(rows)) return "prices: expected an array"
  const out: Array<SnapshotPriceRow> = []
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i]
    if (!Array.isArray(row) || row.length !== 6) return `prices[${i}]: expected a 6-element row`
    const [type, region, onDemand, bucket, savings, zones]: ReadonlyArray<unknown> = row
    const nullableNumber = (value: unknown): value is number | null => value === null || Predicate.isNumber(value)
    if (!Predicate.isString(type) || !Predicate.isString(region) || !nullableNumber(onDemand) || !nullableNumber(bucket) ||
      !nullableNumber(savings) || !Array.isArray(zones)) {
      return `prices[${i}]: expected [instanceType, region, onDemand|null, bucket|null, savings|null, zones]`
    }
    const checkedZones: Array<readonly [string, number]> = []
    for (const zone of zones) {
      if (!Array.isArray(zone) || zone.length !== 2) return `prices[${i}] zones: expected [azId, price] pairs`
      const [id, price]: ReadonlyArray<unknown> = zone
      if (!Predicate.isString(id) || !Predicate.isNumber(price)) return `prices[${i}] zones: expected [azId, price] pairs`
      checkedZones.push([id, price])
    }
    out.push([type, region, onDemand, bucket, savings, checkedZones])
  }
  return out
}

let snapshotMemo: EmbeddedSnapshot | undefined

/** The snapshot, checked once per process. Throws on a corrupt file (a bug: the file ships with the code). */
export const snapshot = (): EmbeddedSnapshot => {
  if (snapshotMemo !== undefined) return snapshotMemo
  const raw: unknown = snapshotJson
  const head = Schema.decodeUnknownSync(SnapshotHead)(raw)
  const prices = checkPriceRows(Predicate.hasProperty(raw, "prices") ? raw.prices : undefined)
  if (typeof prices === "string") throw new Error(`embedded-catalog.json is corrupt: ${prices}`)
  snapshotMemo = { ...head, prices }
  return snapshotMemo
}

const correctionNote = (correction: { readonly detail: string }): string => `Correction: ${correction.detail}.`

/** The snapshot's provenance; `answerWithRelevantNotes` drops the corrections an answer does not concern. */
const notes = (data: EmbeddedSnapshot): ReadonlyArray<string> => [
  `Prices are a snapshot (${data.inputs.offers.asOf} or later), not live: on-demand per region and spot per availability zone at fetch time; run \`frugal prices refresh\` or use --catalog aws for current prices.`,
  `Spot interruption buckets are from the AWS Spot Instance Advisor as of ${data.inputs.spotAdvisor.asOf} (Linux).`,
  "Reserved and savings-plan rates are ESTIMATES modelled from published AWS discount levels (docs/catalog.md), not quotes.",
  ...data.corrections.map(correctionNote)
]

let catalogMemo: Catalog | undefined

/** The whole embedded catalog as a `Catalog` value, built once per process. */
export const catalog = (): Catalog => {
  if (catalogMemo !== undefined) return catalogMemo
  const data = snapshot()
  const instanceTypes: ReadonlyArray<InstanceType> = data.instanceTypes
  const offers: Array<Offer> = []
  for (const [instanceType, region, onDemand, bucket, , zones] of data.prices) {
    if (onDemand !== null) {
      offers.push(regionalOffer(instanceType, region, "on-demand", onDemand))
    }
    for (const [zone, price] of zones) {
      offers.push(regionalOffer(instanceType, region, "spot", price, { availabilityZone: zone, interruptionBucket: bucket }))
    }
    if (onDemand !== null) offers.push(...modelledCommitmentOffers(instanceType, region, onDemand))
  }
  catalogMemo = {
    source: {
      kind: "embedded",
      asOf: data.asOf,
      description: `embedded snapshot of the SkyPilot AWS catalog (commit ${data.inputs.offers.commit.slice(0, 7)}) with AWS Spot Instance Advisor buckets`,
      notes: notes(data)
    },
    instanceTypes,
    offers
  }
  return catalogMemo
}

/**
 * The answer to a query with only the corrections that concern it: a correction about an accelerator is noted only
 * when the answer offers an instance type carrying it, so a price list or plan without Trainium2 does not print the
 * Trainium2 memory fix. The whole snapshot (`catalog()`) keeps every correction, as its provenance.
 */
const answerWithRelevantNotes = (answer: Catalog): Catalog => {
  const data = snapshot()
  if (data.corrections.length === 0 || answer === catalogMemo) return answer
  const acceleratorOf = new Map(answer.instanceTypes.map((type) => [type.name, type.accelerator]))
  const offered = new Set<string>()
  for (const offer of answer.offers) {
    const accelerator = acceleratorOf.get(offer.instanceType)
    if (accelerator !== undefined) offered.add(accelerator)
  }
  const irrelevant = new Set(data.corrections.filter((correction) => !offered.has(correction.accelerator)).map(correctionNote))
  if (irrelevant.size === 0) return answer
  return { ...answer, source: { ...answer.source, notes: answer.source.notes.filter((note) => !irrelevant.has(note)) } }
}

/** The `PriceCatalog` served from the snapshot. Loading is deferred to the first query. */
export const layer: Layer.Layer<PriceCatalog> = Layer.succeed(PriceCatalog)(
  PriceCatalog.of({
    catalog: (query?: CatalogQuery) =>
      Effect.try({
        try: () => answerWithRelevantNotes(filterCatalog(catalog(), query)),
        catch: (error) => new PriceCatalogError({ detail: `embedded catalog: ${error instanceof Error ? error.message : String(error)}` })
      })
  })
)
