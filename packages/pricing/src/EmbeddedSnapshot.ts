/**
 * The format of `packages/pricing/data/embedded-catalog.json`, the offline AWS GPU price snapshot that
 * `scripts/generate-catalog.ts` writes and `EmbeddedCatalog` serves. Shared by both so the writer and
 * the reader cannot drift apart. Prices are kept as rows of tuples: the file sits on the CLI's start-up
 * path, and tuples keep it small and quick to parse (see docs/catalog.md for the measured figures).
 */
import { Schema } from "effect"
import { InstanceType } from "@frugal/core"

export const SNAPSHOT_FORMAT = 2

/** Where one input file came from and when its data was true. */
export const SnapshotInput = Schema.Struct({
  /** File name of the input (no directory: the snapshot must not record machine paths). */
  file: Schema.String,
  sha256: Schema.String,
  /** Upstream location of the data. */
  source: Schema.String,
  /** Upstream commit the file was copied from. */
  commit: Schema.String,
  /** ISO date of the data (see `asOfNote` for how sure it is). */
  asOf: Schema.String,
  asOfNote: Schema.String
})
export type SnapshotInput = typeof SnapshotInput.Type

/** The snapshot stores instance types exactly as core's vocabulary defines them. */
export const SnapshotInstanceType = InstanceType
export type SnapshotInstanceType = typeof SnapshotInstanceType.Type

/**
 * One instance type in one region:
 * `[instanceType, region, onDemandUsdPerHour | null, interruptionBucket | null, spotSavingsPct | null, [[azId, spotUsdPerHour], ...]]`.
 * `onDemandUsdPerHour` null flags a region where AWS lists no on-demand price (capacity-block-only types).
 * Bucket and savings come from the AWS Spot Instance Advisor (Linux); null where it has no entry.
 */
export const SnapshotPriceRow = Schema.Tuple([
  Schema.String,
  Schema.String,
  Schema.NullOr(Schema.Number),
  Schema.NullOr(Schema.Number),
  Schema.NullOr(Schema.Number),
  Schema.Array(Schema.Tuple([Schema.String, Schema.Number]))
])
export type SnapshotPriceRow = typeof SnapshotPriceRow.Type

export const SnapshotCounts = Schema.Struct({
  sourceRows: Schema.Number,
  /** FPGA rows and rows with no price at all. */
  excludedRows: Schema.Number,
  instanceTypes: Schema.Number,
  regions: Schema.Number,
  availabilityZones: Schema.Number,
  onDemandPrices: Schema.Number,
  spotPrices: Schema.Number,
  /** Spot prices in a region that has no on-demand price for the type (flagged by a null on-demand price). */
  spotPricesWithoutOnDemand: Schema.Number,
  /** Region rows with an interruption bucket from the Spot Instance Advisor. */
  rowsWithInterruptionBucket: Schema.Number
})
export type SnapshotCounts = typeof SnapshotCounts.Type

export const EmbeddedSnapshot = Schema.Struct({
  generated: Schema.String,
  format: Schema.Literal(SNAPSHOT_FORMAT),
  /** ISO date the prices were true (the offers input's date). */
  asOf: Schema.String,
  inputs: Schema.Struct({ offers: SnapshotInput, spotAdvisor: SnapshotInput }),
  /** Advisor interruption-frequency buckets, index = bucket. */
  interruptionBuckets: Schema.Array(Schema.Struct({ bucket: Schema.Number, label: Schema.String })),
  /** Corrections applied to upstream figures: the accelerator each concerns and what was changed and why. */
  corrections: Schema.Array(Schema.Struct({ accelerator: Schema.String, detail: Schema.String })),
  counts: SnapshotCounts,
  instanceTypes: Schema.Array(SnapshotInstanceType),
  prices: Schema.Array(SnapshotPriceRow)
})
export type EmbeddedSnapshot = typeof EmbeddedSnapshot.Type
