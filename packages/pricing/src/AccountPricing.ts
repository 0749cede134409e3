/**
 * Account-specific pricing: what a company actually pays, applied on top of list prices by every catalog
 * (live AWS, the embedded snapshot, a user's catalog file). Read from `--pricing-config FILE` or
 * `$XDG_CONFIG_HOME/frugal/pricing.yaml` (default `~/.config/frugal/pricing.yaml`); docs/aws-catalog.md
 * documents the format.
 *
 * ```yaml
 * enterpriseDiscountPct: 7          # EDP / PPA: off every price, after private rates
 * privateRates:                     # by instance family (p5) or exact type (p5.48xlarge; the exact type wins)
 *   p5: { discountPct: 25 }         # off list on-demand, reserved and savings-plan rates
 *   g6e.12xlarge: { onDemandHourlyUsd: 7.10 }   # a negotiated on-demand rate
 * spotDiscountCapPct: 60            # spot counted at no less than 40% of the account's on-demand price
 * ```
 */
import { homedir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Option, Schema } from "effect"
import { parse as parseYaml } from "yaml"
import { type InputIssue, inputIssuesFromSchemaIssue, InvalidInput, type Offer, strictParseOptions } from "@frugal/core"
import { readInputFile, readOptionalInputFile } from "@frugal/core/io"
import { filterCatalog } from "./CatalogFilter.ts"
import { type Catalog, type CatalogQuery, PriceCatalog } from "./PriceCatalog.ts"

const Percent = Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 100 })).annotate({
  expected: "a percentage between 0 and 100"
})
const PositiveUsd = Schema.Number.check(Schema.isGreaterThan(0)).annotate({ expected: "a price in USD above 0" })

export const PrivateRate = Schema.Struct({
  discountPct: Schema.optionalKey(Percent),
  onDemandHourlyUsd: Schema.optionalKey(PositiveUsd)
})
export type PrivateRate = typeof PrivateRate.Type

export const AccountPricing = Schema.Struct({
  enterpriseDiscountPct: Schema.optionalKey(Percent),
  privateRates: Schema.optionalKey(Schema.Record(Schema.String, PrivateRate)),
  spotDiscountCapPct: Schema.optionalKey(Percent)
})
export type AccountPricing = typeof AccountPricing.Type

const decodeAccountPricing = Schema.decodeUnknownExit(AccountPricing)

/** `$XDG_CONFIG_HOME/frugal/pricing.yaml`, else `~/.config/frugal/pricing.yaml`. */
export const defaultAccountPricingPath = (env: Readonly<Record<string, string | undefined>>, home: string): string => {
  const xdg = env["XDG_CONFIG_HOME"]
  return join(xdg !== undefined && xdg !== "" ? xdg : join(home, ".config"), "frugal", "pricing.yaml")
}

/** Decodes the text of a pricing config (YAML or JSON). */
export const parseAccountPricing = (text: string, source: string): Effect.Effect<AccountPricing, InvalidInput> =>
  Effect.suspend(() => {
    let value: unknown
    try {
      value = text.trim() === "" ? {} : parseYaml(text)
    } catch (error) {
      return Effect.fail(new InvalidInput({
        source,
        issues: [{ path: "", expected: "YAML or JSON", actual: error instanceof Error ? error.message.split("\n")[0] ?? "" : String(error) }]
      }))
    }
    const exit = decodeAccountPricing(value ?? {}, strictParseOptions)
    if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
    const error = Exit.findErrorOption(exit)
    const issues: ReadonlyArray<InputIssue> = Option.isSome(error)
      ? inputIssuesFromSchemaIssue(error.value.issue)
      : [{ path: "", expected: "enterpriseDiscountPct, privateRates, spotDiscountCapPct" }]
    return Effect.fail(new InvalidInput({ source, issues }))
  })

/**
 * The account pricing to apply: `explicitPath` when given (it must exist), else the default path when it
 * exists, else none.
 */
export const loadAccountPricing = (
  explicitPath: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  /** Where `explicitPath` came from, for the error when it cannot be read (`--pricing-config`, `FRUGAL_PRICING_CONFIG`). */
  explicitSource = "--pricing-config"
): Effect.Effect<Option.Option<{ readonly path: string; readonly pricing: AccountPricing }>, InvalidInput> =>
  Effect.gen(function*() {
    const path = explicitPath ?? defaultAccountPricingPath(env, homedir())
    // The default path is optional: absent is fine, but anything else there (a FIFO, a directory) is refused.
    const source = explicitPath === undefined ? "pricing config" : explicitSource
    const found = explicitPath === undefined
      ? yield* readOptionalInputFile(path, { kind: "pricingConfig", flag: source })
      : Option.some(yield* readInputFile(path, { kind: "pricingConfig", flag: source }))
    if (Option.isNone(found)) return Option.none()
    const text = found.value
    const pricing = yield* parseAccountPricing(text, path)
    return Option.some({ path, pricing })
  })

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6

const privateRateFor = (pricing: AccountPricing, instanceType: string): PrivateRate | undefined => {
  const rates = pricing.privateRates ?? {}
  return rates[instanceType] ?? rates[instanceType.split(".")[0] ?? ""]
}

/**
 * Applies the account's pricing to offers (pure). Order: private rate (negotiated on-demand price or a
 * family discount off on-demand, reserved and savings-plan list rates), then the enterprise discount on
 * every price, then the spot cap against the account's own on-demand price in the same region.
 */
export const applyAccountPricing = (offers: ReadonlyArray<Offer>, pricing: AccountPricing): ReadonlyArray<Offer> => {
  const edp = 1 - (pricing.enterpriseDiscountPct ?? 0) / 100
  const listed = offers.map((offer): Offer => {
    const rate = privateRateFor(pricing, offer.instanceType)
    let hourly = offer.hourlyPriceUsd
    if (rate !== undefined && offer.purchaseOption !== "spot") {
      if (rate.onDemandHourlyUsd !== undefined && offer.purchaseOption === "on-demand") hourly = rate.onDemandHourlyUsd
      else if (rate.discountPct !== undefined) hourly = hourly * (1 - rate.discountPct / 100)
    }
    const factor = hourly / (offer.hourlyPriceUsd > 0 ? offer.hourlyPriceUsd : 1) * edp
    return {
      ...offer,
      hourlyPriceUsd: round(hourly * edp),
      term: offer.term === null ? null : {
        ...offer.term,
        upfrontUsd: round(offer.term.upfrontUsd * factor),
        recurringHourlyUsd: round(offer.term.recurringHourlyUsd * factor)
      }
    }
  })
  const cap = pricing.spotDiscountCapPct
  if (cap === undefined) return listed
  const onDemand = new Map<string, number>()
  for (const offer of listed) {
    if (offer.purchaseOption === "on-demand") onDemand.set(`${offer.instanceType}|${offer.region}`, offer.hourlyPriceUsd)
  }
  return listed.map((offer) => {
    if (offer.purchaseOption !== "spot") return offer
    const reference = onDemand.get(`${offer.instanceType}|${offer.region}`)
    if (reference === undefined) return offer
    const floor = round(reference * (1 - cap / 100))
    return offer.hourlyPriceUsd < floor ? { ...offer, hourlyPriceUsd: floor } : offer
  })
}

/** What was applied, in words, for `CatalogSource.notes`. */
export const describeAccountPricing = (pricing: AccountPricing, path: string): string => {
  const parts: Array<string> = []
  const rates = Object.entries(pricing.privateRates ?? {})
  if (rates.length > 0) {
    parts.push(`private rates for ${rates.map(([key, rate]) =>
      rate.onDemandHourlyUsd !== undefined ? `${key} ($${rate.onDemandHourlyUsd}/h on-demand)` : `${key} (-${rate.discountPct ?? 0}%)`
    ).join(", ")}`)
  }
  if (pricing.enterpriseDiscountPct !== undefined) parts.push(`enterprise discount ${pricing.enterpriseDiscountPct}% on every price`)
  if (pricing.spotDiscountCapPct !== undefined) parts.push(`spot counted at most ${pricing.spotDiscountCapPct}% below on-demand`)
  return `Account pricing from ${path} applied on top of list prices: ${parts.length > 0 ? parts.join("; ") : "nothing to apply"}.`
}

/** A catalog with the account's pricing applied and named in its description and notes. */
export const withAccountPricing = (catalog: Catalog, pricing: AccountPricing, path: string): Catalog => ({
  ...catalog,
  offers: applyAccountPricing(catalog.offers, pricing),
  source: {
    ...catalog.source,
    description: `${catalog.source.description}, with account pricing applied`,
    notes: [...catalog.source.notes, describeAccountPricing(pricing, path)]
  }
})

/**
 * Any price source with the account's pricing on top: the one code path every `--catalog` goes through.
 * The inner catalog is asked for on-demand offers too (the spot cap is measured against the account's own
 * on-demand price in the same region), the pricing is applied, then the answer is narrowed to the query.
 */
export const accountPricedCatalog = (
  inner: PriceCatalog["Service"],
  account: { readonly path: string; readonly pricing: AccountPricing }
): PriceCatalog["Service"] =>
  PriceCatalog.of({
    catalog: (query?: CatalogQuery) => {
      const wanted = query?.purchaseOptions
      const widened: CatalogQuery | undefined = wanted === undefined || wanted.includes("on-demand")
        ? query
        : { ...query, purchaseOptions: [...wanted, "on-demand"] }
      return Effect.map(inner.catalog(widened), (catalog) => filterCatalog(withAccountPricing(catalog, account.pricing, account.path), query))
    }
  })
