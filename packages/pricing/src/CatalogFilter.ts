/**
 * Narrowing a `Catalog` by a `CatalogQuery`: shared by every catalog implementation so they answer the same
 * query the same way. Accelerator names match case-insensitively; everything else matches exactly.
 */
import type { Catalog, CatalogQuery } from "./PriceCatalog.ts"

const isEmptyQuery = (query: CatalogQuery | undefined): boolean =>
  query === undefined ||
  (query.regions === undefined && query.accelerators === undefined && query.purchaseOptions === undefined &&
    query.instanceTypes === undefined)

/** The catalog restricted to the query; the same object when the query restricts nothing. */
export const filterCatalog = (catalog: Catalog, query?: CatalogQuery): Catalog => {
  if (query === undefined || isEmptyQuery(query)) return catalog
  const accelerators = query.accelerators === undefined ? undefined : new Set(query.accelerators.map((a) => a.toLowerCase()))
  const names = query.instanceTypes === undefined ? undefined : new Set(query.instanceTypes)
  const instanceTypes = catalog.instanceTypes.filter((type) =>
    (accelerators === undefined || accelerators.has(type.accelerator.toLowerCase())) &&
    (names === undefined || names.has(type.name))
  )
  const kept = new Set(instanceTypes.map((type) => type.name))
  const regions = query.regions === undefined ? undefined : new Set(query.regions)
  const purchaseOptions = query.purchaseOptions === undefined ? undefined : new Set(query.purchaseOptions)
  const offers = catalog.offers.filter((offer) =>
    kept.has(offer.instanceType) &&
    (regions === undefined || regions.has(offer.region)) &&
    (purchaseOptions === undefined || purchaseOptions.has(offer.purchaseOption))
  )
  return { source: catalog.source, instanceTypes, offers }
}
