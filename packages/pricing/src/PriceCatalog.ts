/**
 * The price source the planner asks. Implementations: `EmbeddedCatalog` (offline snapshot),
 * `AwsCatalog` (live AWS APIs with a disk cache), `FileCatalog` (a user's own rates).
 */
import { Context, type Effect, Schema } from "effect"
import type { CatalogSource, InstanceType, Offer, PurchaseOption } from "@frugal/core"

/** Narrows what a catalog returns; every field absent means everything. */
export interface CatalogQuery {
  readonly regions?: ReadonlyArray<string> | undefined
  readonly accelerators?: ReadonlyArray<string> | undefined
  readonly purchaseOptions?: ReadonlyArray<PurchaseOption> | undefined
  readonly instanceTypes?: ReadonlyArray<string> | undefined
}

/** One consistent answer: the instance types, their offers, and where and when they came from. */
export interface Catalog {
  readonly source: CatalogSource
  readonly instanceTypes: ReadonlyArray<InstanceType>
  readonly offers: ReadonlyArray<Offer>
}

export class PriceCatalogError extends Schema.TaggedError<PriceCatalogError>()("PriceCatalogError", {
  detail: Schema.String
}) {}

export class PriceCatalog extends Context.Service<PriceCatalog, {
  readonly catalog: (query?: CatalogQuery) => Effect.Effect<Catalog, PriceCatalogError>
}>()("@frugal/pricing/PriceCatalog") {}
