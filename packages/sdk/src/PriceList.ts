/**
 * The GPU price list (`frugal gpus`, `Frugal.gpus`): a catalog answer folded into one row per
 * instance type and region, like the lists users know from cloud consoles, with the on-demand rate
 * and the cheapest spot zone side by side. `priceList` is pure; `gpuPriceList` asks the catalog.
 */
import * as Effect from "effect/Effect"
import { ACCELERATOR_NAMES, type CatalogSource, InvalidInput, type Offer, resolveAcceleratorNames } from "@frugal/core"
import { type Catalog, PriceCatalog, type PriceCatalogError } from "@frugal/pricing"

export interface PriceListRow {
  readonly instanceType: string
  readonly accelerator: string
  readonly acceleratorCount: number
  /** GiB of one accelerator (or of the fraction a fractional-GPU instance gets). */
  readonly acceleratorMemoryGiB: number
  /** GiB of accelerator memory on the whole instance. */
  readonly totalAcceleratorMemoryGiB: number
  readonly vcpus: number
  readonly memoryGiB: number
  readonly region: string
  /** Null where AWS lists no on-demand price (capacity-block-only types). */
  readonly onDemandHourlyUsd: number | null
  /** The cheapest spot zone of the region; null where spot is not offered. */
  readonly spot: {
    readonly hourlyPriceUsd: number
    readonly availabilityZone: string | null
    /** Spot Instance Advisor bucket 0 (<5% interrupted a month) .. 4 (>20%); null when unknown. */
    readonly interruptionBucket: number | null
    /** 1 − spot / on-demand; null without an on-demand price. */
    readonly savingVsOnDemand: number | null
  } | null
}

/** Code-unit order: the same on every machine, whatever its locale. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const cheaper = (a: Offer | undefined, b: Offer): Offer => (a === undefined || b.hourlyPriceUsd < a.hourlyPriceUsd ? b : a)

/**
 * Rows ordered as a reader scans a price list: by accelerator in `acceleratorOrder` (unknown ones
 * last), then GPUs per instance, then on-demand price, then region.
 */
export const priceList = (catalog: Catalog, acceleratorOrder: ReadonlyArray<string>): ReadonlyArray<PriceListRow> => {
  const byKey = new Map<string, { onDemand: Offer | undefined; spot: Offer | undefined }>()
  for (const offer of catalog.offers) {
    if (offer.purchaseOption !== "on-demand" && offer.purchaseOption !== "spot") continue
    const key = `${offer.instanceType}\u0000${offer.region}`
    const entry = byKey.get(key) ?? { onDemand: undefined, spot: undefined }
    if (offer.purchaseOption === "on-demand") entry.onDemand = cheaper(entry.onDemand, offer)
    else entry.spot = cheaper(entry.spot, offer)
    byKey.set(key, entry)
  }
  const types = new Map(catalog.instanceTypes.map((type) => [type.name, type]))
  const rows: Array<PriceListRow> = []
  for (const [key, { onDemand, spot }] of byKey) {
    const [name = "", region = ""] = key.split("\u0000")
    const type = types.get(name)
    if (type === undefined) continue
    const onDemandHourlyUsd = onDemand?.hourlyPriceUsd ?? null
    rows.push({
      instanceType: name,
      accelerator: type.accelerator,
      acceleratorCount: type.acceleratorCount,
      acceleratorMemoryGiB: type.acceleratorMemoryGiB,
      totalAcceleratorMemoryGiB: type.acceleratorMemoryGiB * type.acceleratorCount,
      vcpus: type.vcpus,
      memoryGiB: type.memoryGiB,
      region,
      onDemandHourlyUsd,
      spot: spot === undefined ? null : {
        hourlyPriceUsd: spot.hourlyPriceUsd,
        availabilityZone: spot.availabilityZone,
        interruptionBucket: spot.interruptionBucket,
        savingVsOnDemand: onDemandHourlyUsd === null || onDemandHourlyUsd <= 0
          ? null
          : 1 - spot.hourlyPriceUsd / onDemandHourlyUsd
      }
    })
  }
  const rank = (accelerator: string) => {
    const index = acceleratorOrder.indexOf(accelerator)
    return index === -1 ? acceleratorOrder.length : index
  }
  return rows.sort((a, b) =>
    rank(a.accelerator) - rank(b.accelerator) ||
    byText(a.accelerator, b.accelerator) ||
    a.acceleratorCount - b.acceleratorCount ||
    (a.onDemandHourlyUsd ?? Infinity) - (b.onDemandHourlyUsd ?? Infinity) ||
    byText(a.instanceType, b.instanceType) ||
    byText(a.region, b.region)
  )
}

export interface PriceListQuery {
  /** An AWS region code, or `all`; default `us-east-1`. */
  readonly region?: string | undefined
  /** An accelerator name in any case; a family name (`A100`) means every variant. */
  readonly gpu?: string | undefined
}

export interface PriceListReport {
  readonly catalog: CatalogSource
  /** Null when every region is listed. */
  readonly region: string | null
  /** The canonical accelerators asked for; null for all. */
  readonly accelerators: ReadonlyArray<string> | null
  readonly instances: ReadonlyArray<PriceListRow>
}

export const DEFAULT_PRICE_LIST_REGION = "us-east-1"

const badQuery = (field: string, expected: string, actual: string) =>
  new InvalidInput({ source: "gpus", issues: [{ path: field, expected, actual }] })

/**
 * The price list for a region (or all) and optionally one accelerator family. Fails with
 * `InvalidInput` on an unknown accelerator (field `gpu`) or a region without GPU instances (`region`).
 */
export const gpuPriceList = Effect.fn("Frugal.gpus")(function*(
  query: PriceListQuery
): Effect.fn.Return<PriceListReport, InvalidInput | PriceCatalogError, PriceCatalog> {
  const region = query.region ?? DEFAULT_PRICE_LIST_REGION
  const accelerators = query.gpu === undefined ? undefined : resolveAcceleratorNames(query.gpu)
  if (accelerators !== undefined && accelerators.length === 0) {
    return yield* badQuery("gpu", `an accelerator name: ${ACCELERATOR_NAMES.join(", ")} (or A100 for both sizes)`, query.gpu ?? "")
  }
  const allRegions = region === "all"
  const prices = yield* PriceCatalog
  const catalog = yield* prices.catalog({
    ...(allRegions ? {} : { regions: [region] }),
    ...(accelerators === undefined ? {} : { accelerators }),
    purchaseOptions: ["on-demand", "spot"]
  })
  if (!allRegions && catalog.offers.length === 0) {
    // Either the region is unknown or it sells none of the asked-for GPUs: only the first is a mistake.
    const everywhere = yield* prices.catalog({ purchaseOptions: ["on-demand"] })
    const regions = [...new Set(everywhere.offers.map((offer) => offer.region))].sort()
    if (!regions.includes(region)) {
      return yield* badQuery("region", `an AWS region with GPU instances (${regions.join(", ")}) or all`, region)
    }
  }
  return {
    catalog: catalog.source,
    region: allRegions ? null : region,
    accelerators: accelerators ?? null,
    instances: priceList(catalog, ACCELERATOR_NAMES)
  }
})
