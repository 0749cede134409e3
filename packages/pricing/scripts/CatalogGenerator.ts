/**
 * Builds the embedded catalog snapshot from the two public inputs: SkyPilot's AWS catalog rows for
 * accelerator instances (`aws-gpu-offers.csv`) and the AWS Spot Instance Advisor feed
 * (`spot-advisor-data.json`). Pure: contents in, JSON text out, so the test can regenerate and compare
 * byte for byte. `scripts/generate-catalog.ts` is the command-line wrapper (docs/catalog.md).
 */
import { createHash } from "node:crypto"
import { catalogAcceleratorName } from "@frugal/core"
import { parse } from "csv-parse/sync"
import { Schema } from "effect"
import {
  type EmbeddedSnapshot,
  SNAPSHOT_FORMAT,
  type SnapshotInput,
  type SnapshotInstanceType,
  type SnapshotPriceRow
} from "../src/EmbeddedSnapshot.ts"
import { parsePythonLiteral, type PythonValue } from "./PythonLiteral.ts"

/** What the inputs' READMEs say about where and when the data came from. */
export interface Provenance {
  readonly offers: Omit<SnapshotInput, "sha256" | "file">
  readonly spotAdvisor: Omit<SnapshotInput, "sha256" | "file">
}

/** The provenance of the inputs this repository's snapshot was generated from (their READMEs). */
export const DEFAULT_PROVENANCE: Provenance = {
  offers: {
    source: "skypilot-org/skypilot-catalog catalogs/v9/aws/vms.csv (AWS Price List API, EC2 DescribeSpotPriceHistory)",
    commit: "2c3d7ea7d76bf84cf80d382e946c1609571485fd",
    asOf: "2026-07-09",
    asOfNote: "the commit date is not recorded; the v9 catalog directory first appeared on 2026-07-09, so the prices are from that date or later"
  },
  spotAdvisor: {
    source: "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json (copy in alexei-led/spotinfo internal/spot/data)",
    commit: "5eedf20a99614443af215f4aaf09bd10805cac72",
    asOf: "2025-06-28",
    asOfNote: "the feed has no timestamp; the copy was last changed on 2025-06-28, so it was fetched on or before that date"
  }
}

export interface GeneratorInput {
  readonly offersCsv: string
  readonly offersFileName: string
  readonly spotAdvisorJson: string
  readonly spotAdvisorFileName: string
  readonly provenance: Provenance
}

export class CatalogInputError extends Error {
  override readonly name = "CatalogInputError"
}


/**
 * Upstream figures known to be wrong, fixed with a reason that is written into the snapshot.
 * Trainium2: EC2 DescribeInstanceTypes reports 512 GiB per device, but a Trainium2 chip carries 96 GiB of HBM
 * (trn2.48xlarge: 16 chips, 1.5 TB; https://aws.amazon.com/ec2/instance-types/trn2/).
 */
const MEMORY_CORRECTIONS: ReadonlyMap<string, { readonly gib: number; readonly reason: string }> = new Map([
  ["Trainium2", {
    gib: 96,
    reason: "Trainium2 memory set to 96 GiB per chip (upstream says 512 GiB; AWS trn2 page: 16 chips, 1.5 TB per trn2.48xlarge)"
  }]
])

const CsvRow = Schema.Struct({
  InstanceType: Schema.String,
  AcceleratorName: Schema.String,
  AcceleratorCount: Schema.String,
  vCPUs: Schema.String,
  MemoryGiB: Schema.String,
  GpuInfo: Schema.String,
  Price: Schema.String,
  SpotPrice: Schema.String,
  Region: Schema.String,
  AvailabilityZone: Schema.String,
  Arch: Schema.String
})
const CsvRows = Schema.Array(CsvRow)

const AdvisorEntry = Schema.Struct({ s: Schema.Number, r: Schema.Number })
const SpotAdvisor = Schema.Struct({
  ranges: Schema.Array(Schema.Struct({ index: Schema.Number, label: Schema.String })),
  spot_advisor: Schema.Record(
    Schema.String,
    Schema.Struct({ Linux: Schema.optionalKey(Schema.Record(Schema.String, AdvisorEntry)) })
  )
})

/** Decodes an input with its Schema; a mismatch becomes a `CatalogInputError` naming the file and the field. */
const decodeInput = <S extends Schema.Codec<unknown, unknown>>(schema: S, value: unknown, what: string): S["Type"] => {
  const result = Schema.decodeUnknownResult(schema)(value)
  if (result._tag === "Failure") throw new CatalogInputError(`${what}: ${result.failure.message}`)
  return result.success
}

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

const number = (text: string, what: string): number => {
  const value = Number(text)
  if (text.trim() === "" || !Number.isFinite(value)) throw new CatalogInputError(`${what}: expected a number, got ${JSON.stringify(text)}`)
  return value
}

const optionalPrice = (text: string, what: string): number | null => {
  if (text.trim() === "") return null
  const value = number(text, what)
  if (value <= 0) throw new CatalogInputError(`${what}: expected a positive price, got ${text}`)
  return value
}

/** The part of AWS `GpuInfo` / `NeuronInfo` we need: memory of one device. */
const GpuInfo = Schema.Struct({
  Gpus: Schema.NonEmptyArray(Schema.Struct({ MemoryInfo: Schema.Struct({ SizeInMiB: Schema.Number }) }))
})

/** MiB of one device from `GpuInfo` (`Gpus[0].MemoryInfo.SizeInMiB`). */
const deviceMemoryMiB = (gpuInfo: string, where: string): number => {
  let parsed: PythonValue
  try {
    parsed = parsePythonLiteral(gpuInfo)
  } catch (error) {
    throw new CatalogInputError(`${where}: GpuInfo is not a Python literal: ${String(error)}`)
  }
  const decoded = Schema.decodeUnknownResult(GpuInfo)(parsed)
  if (decoded._tag === "Failure") throw new CatalogInputError(`${where}: GpuInfo has no Gpus[0].MemoryInfo.SizeInMiB`)
  const size = decoded.success.Gpus[0].MemoryInfo.SizeInMiB
  if (!(size > 0)) throw new CatalogInputError(`${where}: GpuInfo memory ${size} MiB is not positive`)
  return size
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The snapshot's JSON text: deterministic (sorted rows, fixed key order), one row per line. */
export const generateCatalog = (input: GeneratorInput): string => {
  let records: unknown
  try {
    records = parse(input.offersCsv, { columns: true, skip_empty_lines: true, relax_column_count: false })
  } catch (error) {
    throw new CatalogInputError(`${input.offersFileName}: not a readable CSV: ${error instanceof Error ? error.message : String(error)}`)
  }
  const rows = decodeInput(CsvRows, records, `${input.offersFileName} (columns of the SkyPilot catalog)`)
  let advisorJson: unknown
  try {
    advisorJson = JSON.parse(input.spotAdvisorJson)
  } catch (error) {
    throw new CatalogInputError(`${input.spotAdvisorFileName}: not JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  const advisor = decodeInput(SpotAdvisor, advisorJson, `${input.spotAdvisorFileName} (the Spot Instance Advisor feed)`)

  const instanceTypes = new Map<string, SnapshotInstanceType>()
  const corrections = new Map<string, string>()
  /** key `type|region` → on-demand price and spot price per AZ */
  const regions = new Map<string, { type: string; region: string; onDemand: number | null; spot: Map<string, number> }>()
  let excludedRows = 0

  rows.forEach((row, index) => {
    const where = `${input.offersFileName} row ${index + 2} (${row.InstanceType} ${row.AvailabilityZone})`
    // FPGA rows (f1, f2) carry no GpuInfo: they are not accelerators Frugal can place work on.
    if (row.GpuInfo.trim() === "" || row.AcceleratorName.startsWith("Virtex")) {
      excludedRows++
      return
    }
    // SkyPilot's names (`A100`, `T4g`, `Radeon Pro V520`) → canonical; an unknown name stops the generator rather
    // than shipping a GPU nobody can ask for.
    const accelerator = catalogAcceleratorName(row.AcceleratorName)
    if (accelerator === undefined) throw new CatalogInputError(`${where}: unknown accelerator ${JSON.stringify(row.AcceleratorName)}`)
    const correction = MEMORY_CORRECTIONS.get(accelerator)
    if (correction !== undefined) corrections.set(accelerator, correction.reason)
    const arch = row.Arch === "arm64" ? "arm64" : row.Arch === "x86_64" ? "x86_64" : undefined
    if (arch === undefined) throw new CatalogInputError(`${where}: unknown Arch ${JSON.stringify(row.Arch)}`)
    const spec: SnapshotInstanceType = {
      name: row.InstanceType,
      accelerator,
      acceleratorCount: number(row.AcceleratorCount, `${where} AcceleratorCount`),
      acceleratorMemoryGiB: correction?.gib ?? deviceMemoryMiB(row.GpuInfo, where) / 1024,
      vcpus: number(row.vCPUs, `${where} vCPUs`),
      memoryGiB: number(row.MemoryGiB, `${where} MemoryGiB`),
      arch
    }
    const known = instanceTypes.get(spec.name)
    if (known === undefined) instanceTypes.set(spec.name, spec)
    else if (JSON.stringify(known) !== JSON.stringify(spec)) throw new CatalogInputError(`${where}: specs differ from an earlier row of ${spec.name}`)

    const onDemand = optionalPrice(row.Price, `${where} Price`)
    const spot = optionalPrice(row.SpotPrice, `${where} SpotPrice`)
    if (onDemand === null && spot === null) {
      excludedRows++
      return
    }
    const key = `${row.InstanceType}|${row.Region}`
    let entry = regions.get(key)
    if (entry === undefined) {
      entry = { type: row.InstanceType, region: row.Region, onDemand, spot: new Map() }
      regions.set(key, entry)
    }
    if (onDemand !== null) {
      if (entry.onDemand !== null && entry.onDemand !== onDemand) {
        throw new CatalogInputError(`${where}: on-demand price ${onDemand} differs from ${entry.onDemand} in another zone of ${row.Region}`)
      }
      entry.onDemand = onDemand
    }
    if (spot !== null) entry.spot.set(row.AvailabilityZone, spot)
  })

  const prices: Array<SnapshotPriceRow> = [...regions.values()]
    .sort((a, b) => byString(a.type, b.type) || byString(a.region, b.region))
    .map((entry) => {
      const advice = advisor.spot_advisor[entry.region]?.Linux?.[entry.type]
      const zones = [...entry.spot.entries()].sort(([a], [b]) => byString(a, b))
      return [entry.type, entry.region, entry.onDemand, advice?.r ?? null, advice?.s ?? null, zones] as const
    })

  const allZones = new Set(prices.flatMap((row) => row[5].map(([zone]) => zone)))
  const snapshot: EmbeddedSnapshot = {
    generated: "Generated by scripts/generate-catalog.ts from the inputs below; do not edit. Refresh: see docs/catalog.md.",
    format: SNAPSHOT_FORMAT,
    asOf: input.provenance.offers.asOf,
    inputs: {
      offers: { file: input.offersFileName, sha256: sha256(input.offersCsv), ...input.provenance.offers },
      spotAdvisor: { file: input.spotAdvisorFileName, sha256: sha256(input.spotAdvisorJson), ...input.provenance.spotAdvisor }
    },
    interruptionBuckets: [...advisor.ranges].sort((a, b) => a.index - b.index).map((r) => ({ bucket: r.index, label: r.label })),
    corrections: [...corrections.keys()].sort(byString).map((accelerator) => ({ accelerator, detail: corrections.get(accelerator) ?? "" })),
    counts: {
      sourceRows: rows.length,
      excludedRows,
      instanceTypes: instanceTypes.size,
      regions: new Set(prices.map((row) => row[1])).size,
      availabilityZones: allZones.size,
      onDemandPrices: prices.filter((row) => row[2] !== null).length,
      spotPrices: prices.reduce((sum, row) => sum + row[5].length, 0),
      spotPricesWithoutOnDemand: prices.reduce((sum, row) => sum + (row[2] === null ? row[5].length : 0), 0),
      rowsWithInterruptionBucket: prices.filter((row) => row[3] !== null).length
    },
    instanceTypes: [...instanceTypes.values()].sort((a, b) => byString(a.name, b.name)),
    prices
  }
  return formatSnapshot(snapshot)
}

/** Pretty at the top, one instance type or price row per line: small, and diffs read well. */
const formatSnapshot = (snapshot: EmbeddedSnapshot): string => {
  const { instanceTypes, prices, ...head } = snapshot
  const top = JSON.stringify(head, null, 2)
  const lines = (items: ReadonlyArray<unknown>): string => items.map((item) => `    ${JSON.stringify(item)}`).join(",\n")
  return `${top.slice(0, -2)},\n  "instanceTypes": [\n${lines(instanceTypes)}\n  ],\n  "prices": [\n${lines(prices)}\n  ]\n}\n`
}
